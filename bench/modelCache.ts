import { existsSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { sha256 } from "../core/hash.js"
import { toolCache } from "../core/home.js"

/**
 * Builds a benchmark's model once into the tool cache, keyed by `kind` and a hash of its options,
 * and returns its directory. `build` writes into a staging folder that is renamed into place, so
 * an interrupted build never leaves a half model behind.
 */
export const cachedBenchModel = <O>(kind: string, options: O, build: (dir: string, options: O) => unknown): string => {
  const key = sha256(JSON.stringify(options)).slice(0, 12)
  const dir = join(toolCache(), "bench-models", `${kind}-${key}`)
  if (existsSync(join(dir, "onnx", "model.onnx"))) return dir
  const staging = `${dir}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  build(staging, options)
  renameSync(staging, dir)
  return dir
}
