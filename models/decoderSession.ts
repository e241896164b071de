import * as ort from "onnxruntime-node"
import { ModelUnsupported } from "../core/errors.js"
import { type DecoderLayout, type FloatType, inspectLayout } from "./decoderLayout.js"
import { halfToFloat } from "./float16.js"
import type { ModelDir } from "./modelDir.js"
import { type Int64Input, int64Tensor, openSession, type SessionSettings } from "./onnxSession.js"

export type { DecoderLayout } from "./decoderLayout.js"

/** One forward step over a left-padded batch. Arrays are row-major. */
export interface ForwardInput {
  readonly batch: number
  readonly inputIds: Int64Input
  readonly attentionMask: Int64Input
  readonly positionIds: Int64Input
  readonly past: KvCache | undefined
  /** Only the last position's logits are needed (uses `num_logits_to_keep` when the graph has it). */
  readonly lastOnly: boolean
}

/** KV cache tensors by input name, with the past length they hold. */
export interface KvCache {
  readonly tensors: Record<string, ort.Tensor>
  readonly length: number
}

/** What one forward step returns: float32 logits `[batch, seq, vocab]` and the grown cache. */
export interface ForwardOutput {
  readonly logits: Float32Array
  readonly seq: number
  readonly cache: KvCache
}

/**
 * A causal LM loaded in ONNX Runtime. Use `forward` for one step with a KV cache; the
 * generation loop in `generate.ts` builds on it. Lives in a worker thread.
 */
export class DecoderSession {
  private readonly fetches: string[]
  private readonly pastNames: string[]

  private constructor(
    readonly session: ort.InferenceSession,
    readonly layout: DecoderLayout,
    private readonly modelPath: string
  ) {
    this.pastNames = Array.from({ length: layout.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat()
    this.fetches = ["logits", ...this.pastNames.map(presentName)]
  }

  /** Opens the model and checks that every input and output is one winnow understands. */
  static async open(dir: ModelDir, settings: SessionSettings): Promise<DecoderSession> {
    const session = await openSession(dir.weightsPath, settings, false)
    try {
      return new DecoderSession(session, inspectLayout(session, dir), dir.weightsPath)
    } catch (e) {
      await session.release()
      throw e
    }
  }

  /** Runs one step and returns float32 logits and the new cache (only the outputs it needs). */
  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const { layout } = this
    const seq = input.inputIds.length / input.batch
    const total = input.attentionMask.length / input.batch
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(input.inputIds, [input.batch, seq]),
      attention_mask: int64Tensor(input.attentionMask, [input.batch, total])
    }
    if (layout.hasPositionIds) feeds.position_ids = int64Tensor(input.positionIds, [input.batch, seq])
    if (layout.logitsToKeep) feeds[layout.logitsToKeep] = new ort.Tensor("int64", BigInt64Array.of(input.lastOnly ? 1n : 0n), [])
    if (layout.hasCacheBranch) feeds.use_cache_branch = new ort.Tensor("bool", Uint8Array.of(input.past && input.past.length > 0 ? 1 : 0), [1])
    const past = input.past ?? emptyCache(layout, input.batch, layout.hasCacheBranch ? 1 : 0)
    Object.assign(feeds, past.tensors)
    let out: ort.InferenceSession.ReturnType
    try {
      out = await this.session.run(feeds, this.fetches)
    } catch (e) {
      throw new ModelUnsupported({ model: this.modelPath, reason: `forward failed: ${(e as Error).message}` })
    }
    const logitsTensor = out.logits as ort.Tensor
    const outSeq = Number(logitsTensor.dims[1] ?? 1)
    const logits = logitsTensor.type === "float16" ? halfToFloat(logitsTensor.data as Uint16Array) : (logitsTensor.data as Float32Array)
    const tensors: Record<string, ort.Tensor> = {}
    for (const name of this.pastNames) tensors[name] = out[presentName(name)] as ort.Tensor
    const length = Number(tensors[this.pastNames[0]!]!.dims[2])
    return { logits, seq: outSeq, cache: { tensors, length } }
  }

  /** Releases the native session. */
  async close(): Promise<void> {
    await this.session.release()
  }
}

const presentName = (past: string): string => past.replace("past_key_values.", "present.")

/**
 * A cache of `length` zeros for the first step (length 0 for Optimum's `model.onnx`; merged
 * legacy decoders take a dummy length-1 past on their no-cache branch).
 */
export const emptyCache = (layout: DecoderLayout, batch: number, length = 0): KvCache => {
  const tensors: Record<string, ort.Tensor> = {}
  const dims = [batch, layout.kvHeads, length, layout.headDim]
  const size = batch * layout.kvHeads * length * layout.headDim
  for (let i = 0; i < layout.layers; i++) {
    for (const kind of ["key", "value"]) {
      tensors[`past_key_values.${i}.${kind}`] = new ort.Tensor(layout.kvType, floatArray(layout.kvType, size), dims)
    }
  }
  return { tensors, length: 0 }
}

const floatArray = (type: FloatType, size: number): Float32Array | Uint16Array =>
  type === "float16" ? new Uint16Array(size) : new Float32Array(size)

/**
 * Gathers batch rows of a cache: `rows[j]` is the source row of output row j. Use to fan one
 * prompt's cache out to N samples (copies each tensor once) and, with `inPlace`, to drop
 * finished rows: strictly increasing rows are compacted inside the same buffer, moving only the
 * rows whose position changes.
 */
export const selectRows = (cache: KvCache, rows: readonly number[], inPlace = false): KvCache => {
  const tensors: Record<string, ort.Tensor> = {}
  const increasing = rows.every((r, j) => j === 0 || r > rows[j - 1]!)
  for (const [name, tensor] of Object.entries(cache.tensors)) {
    const [, heads, length, dim] = tensor.dims.map(Number) as [number, number, number, number]
    const stride = heads * length * dim
    const src = tensor.data as Float32Array | Uint16Array
    let dst: Float32Array | Uint16Array
    if (inPlace && increasing) {
      rows.forEach((row, j) => row !== j && src.copyWithin(j * stride, row * stride, (row + 1) * stride))
      dst = src.subarray(0, rows.length * stride)
    } else {
      dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows.length * stride)
      rows.forEach((row, j) => dst.set(src.subarray(row * stride, (row + 1) * stride), j * stride))
    }
    tensors[name] = new ort.Tensor(tensor.type as FloatType, dst, [rows.length, heads, length, dim])
  }
  return { tensors, length: cache.length }
}

/**
 * Gathers rows `aRows` of cache `a` then rows `bRows` of cache `b` into one cache as long as the
 * longer of the two, each row's past right-aligned (the shorter cache's rows get zeros on the
 * left, which the caller masks out as padding). Use when prompts join a running batch.
 */
export const joinRows = (a: KvCache, aRows: readonly number[], b: KvCache, bRows: readonly number[]): KvCache => {
  const length = Math.max(a.length, b.length)
  const rows = aRows.length + bRows.length
  const tensors: Record<string, ort.Tensor> = {}
  for (const [name, first] of Object.entries(a.tensors)) {
    const [, heads, , dim] = first.dims.map(Number) as [number, number, number, number]
    const dst = new ((first.data as Float32Array | Uint16Array).constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows * heads * length * dim)
    const copy = (tensor: ort.Tensor, from: readonly number[], at: number) => {
      const past = Number(tensor.dims[2])
      const src = tensor.data as Float32Array | Uint16Array
      from.forEach((row, j) => {
        for (let h = 0; h < heads; h++) {
          const start = (row * heads + h) * past * dim
          dst.set(src.subarray(start, start + past * dim), (((at + j) * heads + h) * length + length - past) * dim)
        }
      })
    }
    copy(first, aRows, 0)
    copy(b.tensors[name]!, bRows, aRows.length)
    tensors[name] = new ort.Tensor(first.type as FloatType, dst, [rows, heads, length, dim])
  }
  return { tensors, length }
}
