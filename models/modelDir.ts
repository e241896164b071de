import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { GGUF_VARIANT_PREFIX } from "../core/defaults.js"
import { inputInvalid, ModelUnsupported } from "../core/errors.js"

/** The ONNX files winnow looks for, in order of preference, when a directory holds several. */
export const ONNX_CANDIDATES = [
  "onnx/model.onnx",
  "onnx/model_quantized.onnx",
  "onnx/model_q4.onnx",
  "onnx/model_fp16.onnx",
  "onnx/model_q4f16.onnx",
  "onnx/decoder_model_merged.onnx",
  "model.onnx",
  "decoder_model_merged.onnx"
] as const

/**
 * One ONNX file of a model directory picked by name (`fp16` → `onnx/model_fp16.onnx`, or
 * `onnx/fp16.onnx`), and the input field that named it, so a missing file is reported there.
 */
export interface VariantChoice {
  readonly variant: string
  readonly field: string
}

/**
 * `{ variant }` when a spec entry or option names an ONNX variant, else nothing: spread it into
 * pool requests and lineage configuration (so entries without one keep their old config hash).
 */
export const variantOf = (entry: { readonly variant?: string | undefined }): { variant?: string } =>
  entry.variant === undefined ? {} : { variant: entry.variant }

/** What a model directory holds: parsed configs and the files to load. */
export interface ModelDir {
  readonly path: string
  /** The weights to load: an ONNX file, or with a `gguf:` variant a GGUF file for llama.cpp. */
  readonly weightsPath: string
  readonly format: "onnx" | "gguf"
  readonly config: Record<string, unknown>
  readonly generationConfig: Record<string, unknown>
  readonly tokenizerPath: string
  readonly tokenizerConfig: Record<string, unknown>
  readonly chatTemplate: string | undefined
}

/**
 * Reads a Hugging Face Optimum / onnx-community model directory. Use before starting a campaign
 * (to reject a bad path early, naming `field`) and when loading a model in a worker thread.
 * Without `choice` the first of `ONNX_CANDIDATES` present is loaded.
 */
export const readModelDir = (
  dir: string,
  field: string,
  source: string,
  choice?: VariantChoice
): ModelDir => {
  const path = resolve(dir)
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw inputInvalid(source, field, dir, "an existing model directory (with config.json, tokenizer.json and onnx/model.onnx)")
  }
  const config = readJson(join(path, "config.json"), field, source, true)!
  const tokenizerPath = join(path, "tokenizer.json")
  if (!existsSync(tokenizerPath)) throw inputInvalid(source, field, dir, "a model directory containing tokenizer.json")
  const weightsPath = findWeights(path, choice?.variant)
  if (!weightsPath && choice) {
    const present = variantsIn(path)
    const folders = present.some((v) => v.startsWith(GGUF_VARIANT_PREFIX)) ? `ONNX variants in ${join(path, "onnx")} or GGUF variants in ${join(path, "gguf")}` : `ONNX variants in ${join(path, "onnx")}`
    throw inputInvalid(source, choice.field, choice.variant, present.length > 0
      ? `one of the ${folders}: ${present.map((v) => JSON.stringify(v)).join(", ")}`
      : `the name of an ONNX file in ${join(path, "onnx")} (model_<variant>.onnx) or gguf:<name> for a GGUF file in ${join(path, "gguf")}, but there are none`)
  }
  if (!weightsPath) throw inputInvalid(source, field, dir, `a model directory containing one of ${ONNX_CANDIDATES.join(", ")}`)
  const tokenizerConfig = readJson(join(path, "tokenizer_config.json"), field, source, false) ?? {}
  const templateFile = join(path, "chat_template.jinja")
  const chatTemplate = existsSync(templateFile)
    ? readFileSync(templateFile, "utf8")
    : pickTemplate(tokenizerConfig.chat_template)
  return {
    path,
    weightsPath,
    format: weightsPath.endsWith(".gguf") ? "gguf" : "onnx",
    config,
    generationConfig: readJson(join(path, "generation_config.json"), field, source, false) ?? {},
    tokenizerPath,
    tokenizerConfig,
    chatTemplate
  }
}

/**
 * Reads the model directory a spec entry names: `<owner>.model`, with `<owner>.variant` picking
 * its ONNX file. Use where a model is loaded for a spec's generator or scorer (e.g. in a thread).
 */
export const readOwnedModelDir = (path: string, owner: string, variant?: string, source = path): ModelDir =>
  readModelDir(path, `${owner}.model`, source, variant === undefined ? undefined : { variant, field: `${owner}.variant` })

/**
 * The weights file a directory would load: `variant`'s ONNX file, or its GGUF file for a `gguf:`
 * variant, or without a variant the first of `ONNX_CANDIDATES`; undefined when absent.
 */
export const findWeights = (dir: string, variant?: string): string | undefined => {
  const gguf = variant?.startsWith(GGUF_VARIANT_PREFIX) ? variant.slice(GGUF_VARIANT_PREFIX.length) : undefined
  const candidates = gguf !== undefined
    ? [`gguf/model-${gguf}.gguf`, `gguf/${gguf}.gguf`]
    : variant ? [`onnx/model_${variant}.onnx`, `onnx/${variant}.onnx`] : ONNX_CANDIDATES
  return candidates.map((c) => join(dir, c)).find((p) => existsSync(p))
}

/** Whether a file starts with GGUF's magic bytes (llama.cpp's format). Use to check a `gguf:` variant before a worker loads it. */
export const isGgufFile = (path: string): boolean => {
  const fd = openSync(path, "r")
  try {
    const magic = Buffer.alloc(4)
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "GGUF"
  } finally {
    closeSync(fd)
  }
}

/** The variant names a model directory offers: `model_fp16.onnx` → `fp16`, other `onnx/*.onnx` by their stem, `gguf/model-q8_0.gguf` → `gguf:q8_0`. */
const variantsIn = (dir: string): string[] => {
  const listed = (folder: string, ext: string) => (existsSync(join(dir, folder)) ? readdirSync(join(dir, folder)).filter((f) => f.endsWith(ext)) : [])
  const onnx = listed("onnx", ".onnx").filter((f) => f !== "model.onnx").map((f) => f.replace(/\.onnx$/, "").replace(/^model_/, ""))
  const gguf = listed("gguf", ".gguf").map((f) => GGUF_VARIANT_PREFIX + f.replace(/\.gguf$/, "").replace(/^model-/, ""))
  return [...onnx.sort(), ...gguf.sort()]
}

const pickTemplate = (value: unknown): string | undefined => {
  if (typeof value === "string") return value
  if (Array.isArray(value)) {
    const named = value.find((t) => (t as { name?: string }).name === "default") ?? value[0]
    return (named as { template?: string } | undefined)?.template
  }
  return undefined
}

const readJson = (
  file: string,
  field: string,
  source: string,
  required: boolean
): Record<string, unknown> | undefined => {
  if (!existsSync(file)) {
    if (required) throw inputInvalid(source, field, file, "a model directory containing config.json")
    return undefined
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>
  } catch (e) {
    throw new ModelUnsupported({ model: file, reason: `not valid JSON: ${(e as Error).message}` })
  }
}

/** Token ids from a config value that may be a number, a list, or absent. */
export const tokenIdList = (value: unknown): number[] =>
  Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : typeof value === "number" ? [value] : []
