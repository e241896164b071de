import * as ort from "onnxruntime-node"
import { ModelUnsupported } from "../core/errors.js"
import type { ModelDir } from "./modelDir.js"
import { int64Tensor, openSession, type SessionSettings, tensorMeta } from "./onnxSession.js"

type KvType = "float32" | "float16"

/** What winnow learned about a decoder graph from its metadata and config.json. */
export interface DecoderLayout {
  readonly layers: number
  readonly kvHeads: number
  readonly headDim: number
  readonly kvType: KvType
  readonly vocab: number
  readonly hasPositionIds: boolean
  readonly hasLogitsToKeep: boolean
  readonly hasCacheBranch: boolean
}

/** One forward step over a left-padded batch. Arrays are row-major. */
export interface ForwardInput {
  readonly batch: number
  readonly inputIds: ArrayLike<number>
  readonly attentionMask: ArrayLike<number>
  readonly positionIds: ArrayLike<number>
  readonly past: KvCache | undefined
  readonly lastOnly: boolean
}

/** KV cache tensors by input name, with the past length they hold. */
export interface KvCache {
  readonly tensors: Record<string, ort.Tensor>
  readonly length: number
}

const KNOWN_INPUTS = /^(input_ids|attention_mask|position_ids|num_logits_to_keep|logits_to_keep|use_cache_branch|past_key_values\.\d+\.(key|value))$/

/**
 * A causal LM loaded in ONNX Runtime. Use `forward` for one step with a KV cache; the
 * generation loop in `generate.ts` builds on it. Lives in a worker thread.
 */
export class DecoderSession {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly layout: DecoderLayout,
    private readonly modelPath: string
  ) {}

  /** Opens the model and checks that every input and output is one winnow understands. */
  static async open(dir: ModelDir, settings: SessionSettings): Promise<DecoderSession> {
    const session = await openSession(dir.onnxPath, settings)
    return new DecoderSession(session, inspectLayout(session, dir), dir.path)
  }

  /** Runs one step and returns logits `[batch, seq or 1, vocab]` and the new cache. */
  async forward(input: ForwardInput): Promise<{ logits: Float32Array; seq: number; cache: KvCache }> {
    const { layout } = this
    const seq = input.inputIds.length / input.batch
    const total = input.attentionMask.length / input.batch
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(input.inputIds, [input.batch, seq]),
      attention_mask: int64Tensor(input.attentionMask, [input.batch, total])
    }
    if (layout.hasPositionIds) feeds.position_ids = int64Tensor(input.positionIds, [input.batch, seq])
    if (layout.hasLogitsToKeep) feeds[logitsToKeepName(this.session)] = new ort.Tensor("int64", BigInt64Array.of(input.lastOnly ? 1n : 0n), [])
    if (layout.hasCacheBranch) feeds.use_cache_branch = new ort.Tensor("bool", Uint8Array.of(input.past ? 1 : 0), [1])
    const past = input.past ?? emptyCache(layout, input.batch)
    Object.assign(feeds, past.tensors)
    const fetches = ["logits", ...presentNames(layout)]
    let out: ort.InferenceSession.ReturnType
    try {
      out = await this.session.run(feeds, fetches)
    } catch (e) {
      throw new ModelUnsupported({ model: this.modelPath, reason: `forward failed: ${(e as Error).message}` })
    }
    const logitsTensor = out.logits as ort.Tensor
    const outSeq = logitsTensor.dims.length === 3 ? Number(logitsTensor.dims[1]) : 1
    const tensors: Record<string, ort.Tensor> = {}
    for (let i = 0; i < layout.layers; i++) {
      tensors[`past_key_values.${i}.key`] = out[`present.${i}.key`] as ort.Tensor
      tensors[`past_key_values.${i}.value`] = out[`present.${i}.value`] as ort.Tensor
    }
    return { logits: logitsTensor.data as Float32Array, seq: outSeq, cache: { tensors, length: past.length + seq } }
  }

  /** Releases the native session. */
  async close(): Promise<void> {
    await this.session.release()
  }
}

const presentNames = (layout: DecoderLayout): string[] =>
  Array.from({ length: layout.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat()

const logitsToKeepName = (session: ort.InferenceSession): string =>
  session.inputNames.includes("num_logits_to_keep") ? "num_logits_to_keep" : "logits_to_keep"

/** A zero-length cache for the first step. */
export const emptyCache = (layout: DecoderLayout, batch: number): KvCache => {
  const tensors: Record<string, ort.Tensor> = {}
  const dims = [batch, layout.kvHeads, 0, layout.headDim]
  for (let i = 0; i < layout.layers; i++) {
    for (const kind of ["key", "value"]) {
      tensors[`past_key_values.${i}.${kind}`] = new ort.Tensor(
        layout.kvType,
        layout.kvType === "float16" ? new Uint16Array(0) : new Float32Array(0),
        dims
      )
    }
  }
  return { tensors, length: 0 }
}

/**
 * Gathers batch rows of a cache: `rows[j]` is the source row of output row j. Use to fan one
 * prompt's cache out to N samples and to drop finished rows; copies each tensor once.
 */
export const selectRows = (cache: KvCache, rows: readonly number[]): KvCache => {
  const tensors: Record<string, ort.Tensor> = {}
  for (const [name, tensor] of Object.entries(cache.tensors)) {
    const [, heads, length, dim] = tensor.dims.map(Number) as [number, number, number, number]
    const stride = heads * length * dim
    const src = tensor.data as Float32Array | Uint16Array
    const dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows.length * stride)
    rows.forEach((row, j) => dst.set(src.subarray(row * stride, (row + 1) * stride), j * stride))
    tensors[name] = new ort.Tensor(tensor.type as KvType, dst, [rows.length, heads, length, dim])
  }
  return { tensors, length: cache.length }
}

const inspectLayout = (session: ort.InferenceSession, dir: ModelDir): DecoderLayout => {
  const fail = (reason: string) => new ModelUnsupported({ model: dir.path, reason })
  for (const name of ["input_ids", "attention_mask"]) {
    if (!session.inputNames.includes(name)) throw fail(`input "${name}" is missing; inputs are ${session.inputNames.join(", ")}`)
  }
  const unknown = session.inputNames.find((n) => !KNOWN_INPUTS.test(n))
  if (unknown) throw fail(`input "${unknown}" is not understood (winnow knows input_ids, attention_mask, position_ids, num_logits_to_keep, use_cache_branch, past_key_values.N.key|value)`)
  if (!session.outputNames.includes("logits")) throw fail(`output "logits" is missing; outputs are ${session.outputNames.join(", ")}`)
  const layers = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length
  if (layers === 0) throw fail("it has no past_key_values.N.key inputs: export it with a KV cache (task text-generation-with-past)")
  for (let i = 0; i < layers; i++) {
    for (const name of [`past_key_values.${i}.value`]) if (!session.inputNames.includes(name)) throw fail(`input "${name}" is missing`)
    for (const name of [`present.${i}.key`, `present.${i}.value`]) if (!session.outputNames.includes(name)) throw fail(`output "${name}" is missing`)
  }
  const kvMeta = tensorMeta(session.inputMetadata, "past_key_values.0.key")
  const kvType = kvMeta?.type ?? "float32"
  if (kvType !== "float32" && kvType !== "float16") throw fail(`input "past_key_values.0.key" has type ${kvType}; winnow supports float32 and float16`)
  const cfg = dir.config as Record<string, number | undefined>
  const heads = cfg.num_attention_heads ?? cfg.n_head
  const kvHeads = numericDim(kvMeta?.shape[1]) ?? cfg.num_key_value_heads ?? heads
  const headDim = numericDim(kvMeta?.shape[3]) ?? cfg.head_dim ?? (heads ? (cfg.hidden_size ?? cfg.n_embd ?? 0) / heads : undefined)
  if (!kvHeads || !headDim) throw fail("cannot tell the KV head count and head size from the graph or config.json (num_attention_heads, num_key_value_heads, hidden_size)")
  const logitsMeta = tensorMeta(session.outputMetadata, "logits")
  const vocab = numericDim(logitsMeta?.shape[2]) ?? cfg.vocab_size
  if (!vocab) throw fail("cannot tell the vocabulary size from the logits output or config.json vocab_size")
  return {
    layers,
    kvHeads,
    headDim,
    kvType: kvType as KvType,
    vocab,
    hasPositionIds: session.inputNames.includes("position_ids"),
    hasLogitsToKeep: session.inputNames.includes("num_logits_to_keep") || session.inputNames.includes("logits_to_keep"),
    hasCacheBranch: session.inputNames.includes("use_cache_branch")
  }
}

const numericDim = (d: number | string | undefined): number | undefined => (typeof d === "number" && d > 0 ? d : undefined)
