import { readdirSync, statSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { sha256, sha256File } from "../core/hash.js"

const cache = new Map<string, Promise<string>>()

/** The files that hold a model's graph and weights: the ONNX file and its external data files (`model.onnx_data`, `_data_1`…). */
export const onnxWeightFiles = (onnxPath: string): string[] => {
  const stem = basename(onnxPath, ".onnx")
  const dir = dirname(onnxPath)
  const data = readdirSync(dir).filter((f) => f.startsWith(`${stem}.onnx_data`) || f.startsWith(`${stem}.onnx.data`))
  return [onnxPath, ...data.sort().map((f) => join(dir, f))]
}

/**
 * Content hash of a model's weights: the ONNX graph, its external data files and the tokenizer.
 * Memoised per process by path, size and modification time (hashing GBs of weights is slow).
 */
export const modelWeightsHash = (onnxPath: string, tokenizerPath: string): Promise<string> => {
  const files = [...onnxWeightFiles(onnxPath), tokenizerPath]
  const key = files.map((f) => `${f}:${statSync(f).size}:${statSync(f).mtimeMs}`).join("|")
  let hash = cache.get(key)
  if (!hash) {
    hash = Promise.all(files.map(sha256File)).then((parts) => sha256(parts.join("\n")))
    cache.set(key, hash)
  }
  return hash
}
