import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** winnow's own version (package.json), recorded in every manifest's lineage and printed by `--version`. */
export const winnowVersion = (): string => {
  const pkg = new URL("../package.json", import.meta.url)
  const fallback = new URL("../../package.json", import.meta.url)
  const path = existsSync(fileURLToPath(pkg)) ? pkg : fallback
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version
}
