import type { CampaignSpec } from "../campaign/spec.js"
import { inputInvalid, InputInvalid, isWinnowError } from "../core/errors.js"
import { isGgufFile, readOwnedModelDir } from "../models/modelDir.js"
import { type GraphSignature, readGraphSignature, type ValueSignature } from "../models/onnxSignature.js"

/** What a spec entry's model must be: a decoder the generation loop can run, or a sequence classifier. */
type ModelRole = "decoder" | "classifier"

const PAST = /^past_key_values\.\d+\.(key|value)$/

/**
 * Checks what a run would find out only once its workers load the models or reach the server:
 * that the generator (and every `lm_stats` or `judge` scorer's model) is a decoder exported with
 * its KV cache, that every `classifier` scorer's model is a sequence classifier, and that the
 * variable `generator.backend.api_key_env` names is set, when the workers are this machine's
 * (no `TEMPORAL_ADDRESS`: workers elsewhere read their own environment). Reads only the ONNX
 * graphs' declared inputs and outputs, never the weights. Use after the spec is decoded and its
 * paths resolved, before anything starts; throws InputInvalid naming the field.
 */
export const checkSpecRuns = (spec: CampaignSpec, source: string, env: NodeJS.ProcessEnv): void => {
  if (spec.generator.backend.type === "local" && spec.generator.model !== undefined) {
    checkModel(spec.generator.model, "generator", spec.generator.variant, "decoder", source)
  }
  spec.scorers.forEach((scorer, i) => {
    if (scorer.type === "classifier") checkModel(scorer.model, `scorers[${i}]`, scorer.variant, "classifier", source)
    if ((scorer.type === "lm_stats" || scorer.type === "judge") && scorer.model !== undefined) {
      checkModel(scorer.model, `scorers[${i}]`, scorer.variant, "decoder", source)
    }
  })
  checkApiKey(spec, source, env)
}

const checkApiKey = (spec: CampaignSpec, source: string, env: NodeJS.ProcessEnv): void => {
  const backend = spec.generator.backend
  if (backend.type !== "openai" || backend.api_key_env === undefined || env.TEMPORAL_ADDRESS) return
  if (!env[backend.api_key_env]) {
    throw inputInvalid(source, "generator.backend.api_key_env", backend.api_key_env,
      "the name of an environment variable that is set (and not empty) here, where this campaign's worker runs (with TEMPORAL_ADDRESS set, the workers elsewhere read their own)")
  }
}

const checkModel = (path: string, owner: string, variant: string | undefined, role: ModelRole, source: string): void => {
  const dir = readOwnedModelDir(path, owner, variant, source)
  const field = `${owner}.model`
  if (dir.format === "gguf") {
    if (!isGgufFile(dir.weightsPath)) throw inputInvalid(source, `${owner}.variant`, variant, `a GGUF file (llama.cpp's format, starting with "GGUF"); ${dir.weightsPath} is not one`)
    return
  }
  let signature: GraphSignature
  try {
    signature = readGraphSignature(dir.weightsPath)
  } catch (e) {
    if (!isWinnowError(e) || e._tag !== "ModelUnsupported") throw e
    throw inputInvalid(source, field, path, `a model directory whose ONNX file can be read (${e.reason})`)
  }
  const problem = role === "decoder" ? notADecoder(signature) : notAClassifier(signature)
  if (problem !== undefined) throw new InputInvalid({ source, issues: [{ path: field, value: path, expected: `${problem.expected}; ${dir.weightsPath} ${problem.found}` }] })
}

interface Problem {
  readonly expected: string
  readonly found: string
}

const names = (values: readonly ValueSignature[]): string => {
  const shown = values.filter((v) => !PAST.test(v.name)).map((v) => v.name)
  return shown.length > 8 ? `${shown.slice(0, 8).join(", ")}, …` : shown.join(", ") || "(none)"
}

const shapeOf = (value: ValueSignature | undefined): string =>
  value?.shape === undefined ? "" : `[${value.shape.map((d) => (d === "" ? "?" : d)).join(", ")}]`

const DECODER = "a causal LM decoder exported with its KV cache: inputs input_ids, attention_mask and past_key_values.N.key|value, outputs logits [batch, sequence, vocab] and present.N.key|value (Optimum task text-generation-with-past)"

const notADecoder = ({ inputs, outputs }: GraphSignature): Problem | undefined => {
  const logits = outputs.find((o) => o.name === "logits")
  if (logits?.shape?.length === 2) return { expected: DECODER, found: `has logits ${shapeOf(logits)}: logits [batch, labels], a sequence classifier, not a decoder` }
  const missing = ["input_ids", "attention_mask"].filter((n) => !inputs.some((i) => i.name === n))
  if (missing.length > 0) return { expected: DECODER, found: `has no input ${missing.join(" or ")} (its inputs: ${names(inputs)})` }
  if (!logits) return { expected: DECODER, found: `has no output logits (its outputs: ${names(outputs)})` }
  if (!inputs.some((i) => PAST.test(i.name))) {
    return { expected: DECODER, found: `has no past_key_values inputs, so no KV cache (its inputs: ${names(inputs)})` }
  }
  if (!outputs.some((o) => /^present\.\d+\.(key|value)$/.test(o.name))) {
    return { expected: DECODER, found: `has past_key_values inputs but no present.N.key|value outputs (its outputs: ${names(outputs)})` }
  }
  return undefined
}

const CLASSIFIER = "a sequence classifier (reward model or quality classifier): inputs input_ids and attention_mask, output logits [batch, labels]"

const notAClassifier = ({ inputs, outputs }: GraphSignature): Problem | undefined => {
  if (inputs.some((i) => PAST.test(i.name))) {
    return { expected: CLASSIFIER, found: "has past_key_values inputs: a decoder with a KV cache (score with it through lm_stats or judge)" }
  }
  if (!inputs.some((i) => i.name === "input_ids")) return { expected: CLASSIFIER, found: `has no input input_ids (its inputs: ${names(inputs)})` }
  const logits = outputs.find((o) => o.name === "logits")
  if (!logits) return { expected: CLASSIFIER, found: `has no output logits (its outputs: ${names(outputs)})` }
  if (logits.shape !== undefined && logits.shape.length !== 2) {
    return { expected: CLASSIFIER, found: `has logits ${shapeOf(logits)}: one row of labels per input is [batch, labels]` }
  }
  return undefined
}
