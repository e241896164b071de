import { join } from "node:path"
import { readTextIfExists, writeFileAtomic } from "../fsio.js"
import { llamaFactoryEntry } from "./schemas.js"

/**
 * Adds (or replaces) the entry `name` in the `dataset_info.json` of `dir`, keeping every other
 * entry, so LLaMA-Factory finds the exported file with `dataset: name` and `dataset_dir: dir`.
 * Returns the file's path. A `dataset_info.json` that is not a JSON object is left untouched
 * and reported.
 */
export const updateDatasetInfo = async (dir: string, name: string, schema: "sharegpt" | "alpaca", fileName: string): Promise<string> => {
  const path = join(dir, "dataset_info.json")
  const text = await readTextIfExists(path)
  let info: Record<string, unknown> = {}
  if (text !== null) {
    const parsed = (() => {
      try {
        return JSON.parse(text) as unknown
      } catch {
        return undefined
      }
    })()
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`${path} exists and is not a JSON object; move it away or export to another folder`)
    }
    info = parsed as Record<string, unknown>
  }
  info[name] = llamaFactoryEntry(schema, fileName)
  await writeFileAtomic(path, `${JSON.stringify(info, null, 2)}\n`)
  return path
}
