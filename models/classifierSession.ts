import * as ort from "onnxruntime-node"
import { ModelUnsupported } from "../core/errors.js"
import { type ModelDir, readModelDir, tokenIdList } from "./modelDir.js"
import { int64Tensor, openSession, type SessionSettings } from "./onnxSession.js"
import { TextTokenizer } from "./tokenizer.js"

/** Logits of each input text, plus how many inputs were cut to the length limit. */
export interface ClassifierOutput {
  readonly logits: number[][]
  readonly labels: string[]
  readonly truncated: number
}

const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids", "position_ids"])

/**
 * A sequence-classification model (reward model, quality classifier) in ONNX Runtime.
 * Batches inputs of similar length together and pads on the right. Lives in a worker thread.
 */
export class ClassifierSession {
  private constructor(
    readonly dir: ModelDir,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: TextTokenizer,
    private readonly padId: number,
    readonly labels: string[]
  ) {}

  /** Loads a classifier directory; rejects graphs whose inputs or outputs it does not understand. */
  static async load(path: string, field: string, settings: SessionSettings): Promise<ClassifierSession> {
    const dir = readModelDir(path, field, path)
    const session = await openSession(dir.onnxPath, settings)
    const unknown = session.inputNames.find((n) => !KNOWN_INPUTS.has(n))
    if (unknown) throw new ModelUnsupported({ model: path, reason: `classifier input "${unknown}" is not understood (expected input_ids, attention_mask, token_type_ids, position_ids)` })
    if (!session.outputNames.includes("logits")) throw new ModelUnsupported({ model: path, reason: `classifier has no "logits" output; outputs are ${session.outputNames.join(", ")}` })
    const id2label = (dir.config.id2label ?? {}) as Record<string, string>
    const count = Number(dir.config.num_labels ?? Object.keys(id2label).length) || 1
    const labels = Array.from({ length: count }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`)
    const padId = tokenIdList(dir.config.pad_token_id)[0] ?? 0
    return new ClassifierSession(dir, session, TextTokenizer.load(dir), padId, labels)
  }

  /** Renders a (prompt, response) pair with the model's chat template, for decoder reward models. */
  renderPair(prompt: string, response: string): string {
    return this.tokenizer.renderChat([{ role: "user", content: prompt }, { role: "assistant", content: response }], false)
  }

  /** Classifies texts in length-sorted batches of `batchSize`, truncating each to `maxLength` tokens. */
  async classify(texts: readonly string[], maxLength: number, batchSize: number): Promise<ClassifierOutput> {
    const encoded = await Promise.all(texts.map((t) => this.tokenizer.encode(t, true)))
    let truncated = 0
    const ids = encoded.map((e) => {
      if (e.length <= maxLength) return e
      truncated++
      return e.slice(0, maxLength)
    })
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length || a - b)
    const logits: number[][] = new Array(texts.length)
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize)
      const width = Math.max(1, ...batch.map((i) => ids[i]!.length))
      const flatIds: number[] = []
      const mask: number[] = []
      for (const i of batch) {
        const row = ids[i]!
        flatIds.push(...row, ...new Array<number>(width - row.length).fill(this.padId))
        mask.push(...new Array<number>(row.length).fill(1), ...new Array<number>(width - row.length).fill(0))
      }
      const dims = [batch.length, width]
      const feeds: Record<string, ort.Tensor> = { input_ids: int64Tensor(flatIds, dims), attention_mask: int64Tensor(mask, dims) }
      if (this.session.inputNames.includes("token_type_ids")) feeds.token_type_ids = int64Tensor(new Array<number>(flatIds.length).fill(0), dims)
      if (this.session.inputNames.includes("position_ids")) {
        feeds.position_ids = int64Tensor(batch.flatMap(() => Array.from({ length: width }, (_, j) => j)), dims)
      }
      const out = await this.session.run(feeds, ["logits"])
      const data = (out.logits as ort.Tensor).data as Float32Array
      const labels = data.length / batch.length
      batch.forEach((i, j) => {
        logits[i] = Array.from(data.subarray(j * labels, (j + 1) * labels))
      })
    }
    return { logits, labels: this.labels, truncated }
  }

  /** Releases the ONNX session. */
  close(): Promise<void> {
    return this.session.release()
  }
}
