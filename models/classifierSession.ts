import * as ort from "onnxruntime-node"
import { Tokenizer } from "tokenizers"
import { inputInvalid, ModelUnsupported } from "../core/errors.js"
import { type ModelDir, readOwnedModelDir, tokenIdList } from "./modelDir.js"
import { openSession, type SessionSettings } from "./onnxSession.js"
import { TextTokenizer } from "./tokenizer.js"

/** Logits of each input, the model's label names, and which inputs were cut to the length limit. */
export interface ClassifierOutput {
  readonly logits: number[][]
  readonly labels: string[]
  readonly truncated: boolean[]
}

/** Which end of an over-long input is cut ("error" refuses to cut). Special tokens at both ends are kept. */
export type Truncation = "right" | "left" | "error"

/** One classification request: declared-template texts, or (prompt, response) pairs. */
export interface ClassifyRequest {
  readonly texts: readonly string[]
  readonly pairs?: ReadonlyArray<readonly [string, string]>
  readonly maxLength: number
  readonly batchSize: number
  readonly truncation?: Truncation
  /** Spec field of the scorer, named in errors. */
  readonly field: string
}

interface Encoded {
  readonly ids: number[]
  readonly types: number[]
  readonly truncated: boolean
}

const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids", "position_ids"])

/**
 * Cuts an encoding to `max` tokens on one side, keeping the special tokens that open and close
 * it ([CLS]/[SEP], <s>/</s>, a trailing EOS) so the model still sees a well-formed input.
 */
export const truncateEncoding = (ids: number[], types: number[], special: number[], max: number, side: "right" | "left"): Encoded => {
  if (ids.length <= max) return { ids, types, truncated: false }
  let head = 0
  while (head < ids.length && special[head] === 1) head++
  let tail = 0
  while (tail < ids.length - head && special[ids.length - 1 - tail] === 1) tail++
  if (head + tail >= max) return { ids: ids.slice(0, max), types: types.slice(0, max), truncated: true }
  const keep = max - head - tail
  const from = side === "right" ? head : ids.length - tail - keep
  const pick = <T>(xs: T[]) => [...xs.slice(0, head), ...xs.slice(from, from + keep), ...xs.slice(xs.length - tail)]
  return { ids: pick(ids), types: pick(types), truncated: true }
}

/**
 * A sequence-classification model (reward model, quality classifier) in ONNX Runtime: encoder
 * exports (BERT/DeBERTa/XLM-R: `token_type_ids`, text pairs) and decoder exports (Qwen/Llama,
 * the graph picks the last non-pad token). Batches inputs of similar length, pads on the right.
 * The tokenizer's own truncation and padding are switched off: truncation is the caller's
 * declared choice. Lives in a worker thread.
 */
export class ClassifierSession {
  private readonly hasTypeIds: boolean
  private readonly hasPositionIds: boolean

  private constructor(
    readonly dir: ModelDir,
    private readonly session: ort.InferenceSession,
    private readonly chat: TextTokenizer,
    private readonly raw: Tokenizer,
    private readonly padId: number,
    readonly labels: string[]
  ) {
    this.hasTypeIds = session.inputNames.includes("token_type_ids")
    this.hasPositionIds = session.inputNames.includes("position_ids")
  }

  /** Loads a classifier directory; rejects graphs whose inputs or outputs it does not understand. */
  static async load(path: string, owner: string, settings: SessionSettings, variant?: string): Promise<ClassifierSession> {
    const dir = readOwnedModelDir(path, owner, variant)
    const session = await openSession(dir.weightsPath, settings)
    const unknown = session.inputNames.find((n) => !KNOWN_INPUTS.has(n))
    if (unknown) throw new ModelUnsupported({ model: path, reason: `classifier input "${unknown}" is not understood (expected input_ids, attention_mask, token_type_ids, position_ids)` })
    if (!session.outputNames.includes("logits")) throw new ModelUnsupported({ model: path, reason: `classifier has no "logits" output; outputs are ${session.outputNames.join(", ")}` })
    const id2label = (dir.config.id2label ?? {}) as Record<string, string>
    const count = Number(dir.config.num_labels ?? Object.keys(id2label).length) || 1
    const labels = Array.from({ length: count }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`)
    const padId = tokenIdList(dir.config.pad_token_id)[0] ?? 0
    const raw = Tokenizer.fromFile(dir.tokenizerPath)
    raw.disableTruncation()
    raw.disablePadding()
    return new ClassifierSession(dir, session, TextTokenizer.load(dir), raw, padId, labels)
  }

  /**
   * Encodes the request's inputs: declared-template texts as one sequence each (with the
   * tokenizer's special tokens, as `tokenizer(text)` would); pairs through the chat template as a
   * (user, assistant) exchange when the model has one (the template brings its own special
   * tokens), else as a tokenizer text pair (segment ids 0 and 1, as BERT-style cross-encoders expect).
   */
  private async encodeAll(request: ClassifyRequest): Promise<Array<{ ids: number[]; types: number[]; special: number[] }>> {
    const useChat = request.pairs !== undefined && this.dir.chatTemplate !== undefined
    const inputs: Array<string | [string, string]> = request.pairs
      ? request.pairs.map(([p, r]) => (useChat
        ? this.chat.renderChat([{ role: "user", content: p }, { role: "assistant", content: r }], false)
        : [p, r] as [string, string]))
      : [...request.texts]
    const encodings = await Promise.all(inputs.map((input) =>
      typeof input === "string"
        ? this.raw.encode(input, null, { addSpecialTokens: !useChat })
        : this.raw.encode(input[0], input[1], { addSpecialTokens: true })))
    return encodings.map((e) => ({ ids: e.getIds(), types: e.getTypeIds(), special: e.getSpecialTokensMask() }))
  }

  /** Classifies the inputs in length-sorted batches, each input cut to `maxLength` tokens as declared. */
  async classify(request: ClassifyRequest): Promise<ClassifierOutput> {
    const truncation = request.truncation ?? "right"
    const encoded = (await this.encodeAll(request)).map((e, i): Encoded => {
      if (truncation === "error" && e.ids.length > request.maxLength) {
        throw inputInvalid("spec", `${request.field}.max_length`, request.maxLength, `room for input ${i} (${e.ids.length} tokens), or truncation "left" or "right"`)
      }
      return truncateEncoding(e.ids, e.types, e.special, request.maxLength, truncation === "left" ? "left" : "right")
    })
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length || a - b)
    const logits: number[][] = new Array(encoded.length)
    for (let start = 0; start < order.length; start += request.batchSize) {
      const batch = order.slice(start, start + request.batchSize)
      const rows = await this.runBatch(batch.map((i) => encoded[i]!))
      batch.forEach((i, j) => { logits[i] = rows[j]! })
    }
    return { logits, labels: this.labels, truncated: encoded.map((e) => e.truncated) }
  }

  private async runBatch(rows: readonly Encoded[]): Promise<number[][]> {
    const width = Math.max(1, ...rows.map((r) => r.ids.length))
    const dims = [rows.length, width]
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(this.padId))
    const mask = new BigInt64Array(rows.length * width)
    const types = this.hasTypeIds ? new BigInt64Array(rows.length * width) : undefined
    rows.forEach((row, r) => {
      const at = r * width
      for (let t = 0; t < row.ids.length; t++) {
        ids[at + t] = BigInt(row.ids[t]!)
        mask[at + t] = 1n
        if (types) types[at + t] = BigInt(row.types[t] ?? 0)
      }
    })
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor("int64", ids, dims), attention_mask: new ort.Tensor("int64", mask, dims) }
    if (types) feeds.token_type_ids = new ort.Tensor("int64", types, dims)
    if (this.hasPositionIds) {
      const positions = new BigInt64Array(rows.length * width)
      for (let r = 0; r < rows.length; r++) for (let t = 0; t < width; t++) positions[r * width + t] = BigInt(t)
      feeds.position_ids = new ort.Tensor("int64", positions, dims)
    }
    const out = await this.session.run(feeds, ["logits"])
    const data = (out.logits as ort.Tensor).data as Float32Array
    const labels = data.length / rows.length
    return rows.map((_, j) => Array.from(data.subarray(j * labels, (j + 1) * labels)))
  }

  /** Releases the ONNX session. */
  close(): Promise<void> {
    return this.session.release()
  }
}
