import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, isAbsolute, resolve } from "node:path"
import { Result } from "effect"
import { parse as parseYaml } from "yaml"
import { parsePrompts } from "../campaign/prompts.js"
import { type CampaignSpec, decodeSpec } from "../campaign/spec.js"
import { inputInvalid, InputInvalid } from "../core/errors.js"
import { canonicalJson, sha256 } from "../core/hash.js"
import { readOwnedModelDir } from "../models/modelDir.js"

/** A validated spec with every path made absolute, plus its content hash. */
export interface LoadedSpec {
  readonly path: string
  readonly spec: CampaignSpec
  readonly hash: string
}

/**
 * Reads a campaign spec (YAML or JSON), validates it, resolves paths against the spec's folder
 * and checks that the prompt file and every model directory exist and make sense — so a bad
 * spec fails before anything starts, naming the field, the value and what was expected.
 */
export const loadSpecFile = (file: string): LoadedSpec => {
  const path = resolve(file)
  if (!existsSync(path) || !statSync(path).isFile()) throw inputInvalid("winnow", "spec", file, "a path to a campaign spec file (.yaml or .json)")
  let raw: unknown
  try {
    const text = readFileSync(path, "utf8")
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text)
  } catch (e) {
    throw inputInvalid(path, "(file)", (e as Error).message.split("\n")[0], "valid YAML or JSON")
  }
  const decoded = decodeSpec(raw, path)
  if (Result.isFailure(decoded)) throw decoded.failure
  const spec = resolvePaths(decoded.success, dirname(path))
  checkFiles(spec, path)
  return { path, spec, hash: sha256(canonicalJson(spec)).slice(0, 16) }
}

const abs = (base: string, p: string): string => (isAbsolute(p) ? p : resolve(base, p))

const resolvePaths = (spec: CampaignSpec, base: string): CampaignSpec => ({
  ...spec,
  prompts: abs(base, spec.prompts),
  generator: spec.generator.model === undefined ? spec.generator : { ...spec.generator, model: abs(base, spec.generator.model) },
  scorers: spec.scorers.map((s) => ("model" in s && s.model !== undefined ? { ...s, model: abs(base, s.model) } : s)),
  output: spec.output.dedup.decontaminate === undefined
    ? spec.output
    : { ...spec.output, dedup: { ...spec.output.dedup, decontaminate: abs(base, spec.output.dedup.decontaminate) } },
  ...(spec.eval ? { eval: { ...spec.eval, prompts: abs(base, spec.eval.prompts) } } : {}),
  ...(spec.improve?.base !== undefined ? { improve: { ...spec.improve, base: abs(base, spec.improve.base) } } : {})
})

/** Model weights a trainer can start from: what `from_pretrained` loads. */
const TRAINABLE_WEIGHTS = /^(model(-\d+-of-\d+)?\.safetensors|pytorch_model(-\d+-of-\d+)?\.bin|model\.safetensors\.index\.json)$/

const checkLoopFiles = (spec: CampaignSpec, source: string): void => {
  if (spec.eval) {
    const file = spec.eval.prompts
    if (!existsSync(file) || !statSync(file).isFile()) throw inputInvalid(source, "eval.prompts", file, "an existing JSONL file of evaluation prompts with references")
    const parsed = parsePrompts(readFileSync(file, "utf8"), file)
    if (Result.isFailure(parsed)) throw parsed.failure
    const missing = parsed.success.findIndex((p) => p.reference === undefined)
    if (missing >= 0) throw inputInvalid(file, `prompt ${parsed.success[missing]!.id}`, "no reference", "a \"reference\" answer on every evaluation prompt (the verifiers check against it)")
  }
  if (spec.improve?.trainer === "bundled") {
    const field = spec.improve.base !== undefined ? "improve.base" : "generator.model"
    const dir = spec.improve.base ?? spec.generator.model ?? ""
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw inputInvalid(source, field, dir, "an existing model directory to train from")
    if (!readdirSync(dir).some((f) => TRAINABLE_WEIGHTS.test(f))) {
      throw inputInvalid(source, field, dir, "a model directory holding PyTorch weights (model.safetensors or pytorch_model.bin) beside its ONNX export, for the bundled trainer to start from")
    }
  }
}

const checkFiles = (spec: CampaignSpec, source: string): void => {
  if (!existsSync(spec.prompts) || !statSync(spec.prompts).isFile()) {
    throw inputInvalid(source, "prompts", spec.prompts, "an existing JSONL file of prompts")
  }
  const prompts = parsePrompts(readFileSync(spec.prompts, "utf8"), spec.prompts)
  if (Result.isFailure(prompts)) throw prompts.failure
  const evalPrompts = spec.output.dedup.decontaminate
  if (evalPrompts !== undefined && (!existsSync(evalPrompts) || !statSync(evalPrompts).isFile())) {
    throw inputInvalid(source, "output.dedup.decontaminate", evalPrompts, "an existing file of evaluation prompts (JSONL or one per line)")
  }
  if (spec.generator.model !== undefined) readOwnedModelDir(spec.generator.model, "generator", spec.generator.variant, source)
  spec.scorers.forEach((s, i) => {
    if ("model" in s && s.model !== undefined) readOwnedModelDir(s.model, `scorers[${i}]`, s.variant, source)
  })
  checkLoopFiles(spec, source)
  const names = new Set<string>()
  spec.scorers.forEach((s, i) => {
    if (names.has(s.name)) throw new InputInvalid({ source, issues: [{ path: `scorers[${i}].name`, value: s.name, expected: "a name no other scorer uses" }] })
    names.add(s.name)
  })
}
