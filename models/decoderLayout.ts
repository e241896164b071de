import type * as ort from "onnxruntime-node"
import { ModelUnsupported } from "../core/errors.js"
import { configKvShape, configNumbers } from "./modelConfig.js"
import type { ModelDir } from "./modelDir.js"
import { tensorMeta } from "./onnxSession.js"

/** Element type of a float tensor winnow can read and feed back: the KV cache and the logits. */
export type FloatType = "float32" | "float16"

/** What winnow learned about a decoder graph from its metadata and config.json. */
export interface DecoderLayout {
  readonly layers: number
  readonly kvHeads: number
  readonly headDim: number
  readonly kvType: FloatType
  readonly logitsType: FloatType
  readonly vocab: number
  readonly hasPositionIds: boolean
  /** Name of the optional "keep the last n positions' logits" input, if the graph has one. */
  readonly logitsToKeep: "num_logits_to_keep" | "logits_to_keep" | undefined
  /** Legacy merged decoders (`decoder_model_merged.onnx`) switch branches with this bool input. */
  readonly hasCacheBranch: boolean
  /** Bytes of KV cache one token of one sequence holds (all layers, keys and values). */
  readonly kvBytesPerToken: number
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/
const PRESENT = /^present\.(\d+)\.(key|value)$/
const SCALARS: Record<string, string> = {
  input_ids: "int64",
  attention_mask: "int64",
  position_ids: "int64",
  num_logits_to_keep: "int64",
  logits_to_keep: "int64",
  use_cache_branch: "bool"
}
const KNOWN = "input_ids, attention_mask, position_ids, num_logits_to_keep, logits_to_keep, use_cache_branch, past_key_values.N.key|value"

/**
 * Reads a decoder's layout from the session's input/output metadata, falling back to
 * config.json only for sizes the graph leaves symbolic. Throws `ModelUnsupported` naming the
 * first input or output it does not understand. Use when opening a decoder.
 */
export const inspectLayout = (session: ort.InferenceSession, dir: ModelDir): DecoderLayout => {
  const fail = (reason: string) => new ModelUnsupported({ model: dir.weightsPath, reason })
  const inputs = session.inputNames
  for (const name of ["input_ids", "attention_mask"]) {
    if (!inputs.includes(name)) throw fail(`input "${name}" is missing; its inputs are ${inputs.join(", ")}`)
  }
  for (const name of inputs) {
    const meta = tensorMeta(session.inputMetadata, name)
    if (!(name in SCALARS) && !PAST.test(name)) throw fail(`input "${name}" is not understood (winnow knows ${KNOWN})`)
    if (!meta) throw fail(`input "${name}" is not a tensor`)
    const want = SCALARS[name]
    if (want && meta.type !== want) throw fail(`input "${name}" has type ${meta.type}; winnow expects ${want}`)
  }
  if (!session.outputNames.includes("logits")) throw fail(`output "logits" is missing; its outputs are ${session.outputNames.join(", ")}`)
  const layers = inputs.filter((n) => PAST.test(n) && n.endsWith(".key")).length
  if (layers === 0) throw fail("it has no past_key_values.N.key inputs: export it with a KV cache (task text-generation-with-past)")
  for (let i = 0; i < layers; i++) {
    for (const name of [`past_key_values.${i}.key`, `past_key_values.${i}.value`]) {
      if (!inputs.includes(name)) throw fail(`input "${name}" is missing (layers 0…${layers - 1} expected)`)
    }
    for (const name of [`present.${i}.key`, `present.${i}.value`]) {
      if (!session.outputNames.includes(name)) throw fail(`output "${name}" is missing (outputs are ${session.outputNames.join(", ")})`)
    }
  }
  const strayPresent = session.outputNames.find((n) => PRESENT.test(n) && Number(PRESENT.exec(n)![1]) >= layers)
  if (strayPresent) throw fail(`output "${strayPresent}" has no matching past_key_values input`)

  const kvMeta = tensorMeta(session.inputMetadata, "past_key_values.0.key")!
  const kvType = kvMeta.type
  if (kvType !== "float32" && kvType !== "float16") {
    throw fail(`input "past_key_values.0.key" has type ${kvType}; winnow supports float32 and float16 KV caches`)
  }
  for (let i = 0; i < layers; i++) {
    for (const name of [`past_key_values.${i}.key`, `past_key_values.${i}.value`]) {
      const meta = tensorMeta(session.inputMetadata, name)!
      if (meta.type !== kvType) throw fail(`input "${name}" has type ${meta.type} but past_key_values.0.key has ${kvType}`)
      if (meta.shape.length !== 4) throw fail(`input "${name}" has shape [${meta.shape.join(", ")}]; winnow expects [batch, kv_heads, past_sequence, head_dim]`)
      if (typeof meta.shape[2] === "number" && meta.shape[2] > 0) {
        throw fail(`input "${name}" has shape [${meta.shape.join(", ")}]; its third axis must be the (symbolic) past sequence length`)
      }
    }
  }
  const logitsMeta = tensorMeta(session.outputMetadata, "logits")
  const logitsType = logitsMeta?.type ?? "float32"
  if (logitsType !== "float32" && logitsType !== "float16") throw fail(`output "logits" has type ${logitsType}; winnow reads float32 or float16 logits`)
  if (logitsMeta && logitsMeta.shape.length !== 3) throw fail(`output "logits" has shape [${logitsMeta.shape.join(", ")}]; winnow expects [batch, sequence, vocab]`)

  const stated = configKvShape(dir.config)
  const kvHeads = numericDim(kvMeta.shape[1]) ?? stated.kvHeads
  const headDim = numericDim(kvMeta.shape[3]) ?? stated.headDim
  if (!kvHeads || !headDim) {
    throw fail("cannot tell the KV head count and head size from input past_key_values.0.key or config.json (num_attention_heads, num_key_value_heads, hidden_size)")
  }
  const vocab = numericDim(logitsMeta?.shape[2]) ?? configNumbers(dir.config).vocab_size
  if (!vocab) throw fail("cannot tell the vocabulary size from output logits or config.json vocab_size")
  const logitsToKeep = inputs.includes("num_logits_to_keep") ? "num_logits_to_keep" : inputs.includes("logits_to_keep") ? "logits_to_keep" : undefined
  return {
    layers,
    kvHeads,
    headDim,
    kvType,
    logitsType,
    vocab,
    hasPositionIds: inputs.includes("position_ids"),
    logitsToKeep,
    hasCacheBranch: inputs.includes("use_cache_branch"),
    kvBytesPerToken: layers * 2 * kvHeads * headDim * (kvType === "float16" ? 2 : 4)
  }
}

const numericDim = (d: number | string | undefined): number | undefined => (typeof d === "number" && d > 0 ? d : undefined)
