import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, isAbsolute, resolve } from "node:path"
import { Result } from "effect"
import { parse as parseYaml } from "yaml"
import { conversationOf, decodePromptBytes, parsePromptFile, type PromptFile } from "../campaign/prompts.js"
import { type CampaignSpec, decodeSpec } from "../campaign/spec.js"
import { inputInvalid, InputInvalid } from "../core/errors.js"
import { canonicalJson, sha256 } from "../core/hash.js"
import { readOwnedModelDir } from "../models/modelDir.js"
import { TextTokenizer } from "../models/tokenizer.js"
import { checkSpecRuns } from "./specChecks.js"

/** A validated spec with every path made absolute, plus its content hash. */
export interface LoadedSpec {
  readonly path: string
  readonly spec: CampaignSpec
  readonly hash: string
}

/**
 * Reads a campaign spec (YAML or JSON), validates it, resolves paths against the spec's folder
 * and checks that the prompt file and every model directory exist and make sense (each model's
 * graph is what its role needs; an API key variable is set; see `checkSpecRuns`) — so a bad
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
  ...(spec.outputs
    ? { outputs: spec.outputs.map((o) => (o.dedup.decontaminate === undefined ? o : { ...o, dedup: { ...o.dedup, decontaminate: abs(base, o.dedup.decontaminate) } })) }
    : {}),
  ...(spec.eval ? { eval: { ...spec.eval, prompts: abs(base, spec.eval.prompts) } } : {}),
  ...(spec.improve?.base !== undefined ? { improve: { ...spec.improve, base: abs(base, spec.improve.base) } } : {})
})

/** Model weights a trainer can start from: what `from_pretrained` loads. */
const TRAINABLE_WEIGHTS = /^(model(-\d+-of-\d+)?\.safetensors|pytorch_model(-\d+-of-\d+)?\.bin|model\.safetensors\.index\.json)$/

/**
 * Reads a prompt file strictly: UTF-8 or refused (naming the line), then parsed line by line.
 * Use wherever a prompt file enters winnow, so every check names the file and the line.
 */
export const readPromptFile = (file: string): PromptFile => {
  const text = decodePromptBytes(readFileSync(file), file)
  if (Result.isFailure(text)) throw text.failure
  const parsed = parsePromptFile(text.success, file)
  if (Result.isFailure(parsed)) throw parsed.failure
  return parsed.success
}

const checkLoopFiles = (spec: CampaignSpec, source: string): void => {
  if (spec.eval) {
    const file = spec.eval.prompts
    if (!existsSync(file) || !statSync(file).isFile()) throw inputInvalid(source, "eval.prompts", file, "an existing JSONL file of evaluation prompts with references")
    const parsed = readPromptFile(file)
    const missing = parsed.prompts.find((p) => p.reference === undefined)
    if (missing) throw inputInvalid(file, `line ${parsed.lineOf.get(missing.id)} (prompt ${missing.id})`, "no reference", "a \"reference\" answer on every evaluation prompt (the verifiers check against it)")
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
  readPromptFile(spec.prompts)
  const decontaminate = [["output", spec.output.dedup.decontaminate], ...(spec.outputs ?? []).map((o, i) => [`outputs[${i}]`, o.dedup.decontaminate])] as const
  for (const [field, evalPrompts] of decontaminate) {
    if (evalPrompts !== undefined && (!existsSync(evalPrompts) || !statSync(evalPrompts).isFile())) {
      throw inputInvalid(source, `${field}.dedup.decontaminate`, evalPrompts, "an existing file of evaluation prompts (JSONL or one per line)")
    }
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
  checkSpecRuns(spec, source, process.env)
}

/**
 * Refuses prompts the local generator cannot answer: rendered with its chat template (and the
 * spec's system prompt), as long as its position limit or longer. Names the file, the line and the
 * prompt id. Run after `loadSpecFile`, before anything starts (it tokenizes every prompt).
 */
export const checkPromptsFit = async (spec: CampaignSpec, source: string): Promise<void> => {
  const model = spec.generator.model
  if (spec.generator.backend.type !== "local" || model === undefined) return
  const dir = readOwnedModelDir(model, "generator", spec.generator.variant, source)
  const limit = dir.config.max_position_embeddings ?? dir.config.n_positions
  if (typeof limit !== "number" || limit <= 0) return
  const tokenizer = TextTokenizer.load(dir)
  for (const file of [spec.prompts, ...(spec.eval ? [spec.eval.prompts] : [])]) {
    const { prompts, lineOf } = readPromptFile(file)
    const issues = []
    for (const prompt of prompts) {
      const tokens = (await tokenizer.encode(tokenizer.renderChat(conversationOf(spec.generator.system_prompt, prompt), true))).length
      if (tokens >= limit) issues.push({ path: `line ${lineOf.get(prompt.id)} (prompt ${prompt.id})`, value: `${tokens} tokens`, expected: `a prompt shorter than the generator's ${limit} positions (max_position_embeddings of ${model})` })
    }
    if (issues.length > 0) throw new InputInvalid({ source: file, issues: issues.slice(0, 20) })
  }
}
