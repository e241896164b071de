import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runPython } from "../../trainers/pythonEnv.js"

const SCRIPT = fileURLToPath(new URL("../datasets_consumers.py", import.meta.url))

/**
 * Runs the real consumers (`tests/datasets_consumers.py`: `datasets`, TRL, …) on a spec written
 * under `out`, offline, with one `datasets` cache per `out` as one user's machine has. Returns the
 * script's last JSON line. Use in export tests that check what consumers read.
 */
export const consumeExports = async (python: string, out: string, spec: unknown): Promise<Record<string, any>> => {
  const specPath = join(out, `spec-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(specPath, JSON.stringify(spec))
  const stdout = await runPython(python, SCRIPT, [specPath], {
    HF_DATASETS_CACHE: join(out, "hf-cache"),
    HF_HUB_OFFLINE: "1",
    HF_DATASETS_OFFLINE: "1"
  })
  return JSON.parse(stdout.trim().split("\n").at(-1)!)
}
