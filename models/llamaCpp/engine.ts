import { InferenceFailed, ModelUnsupported } from "../../core/errors.js"
import { type LlamaHandle, type LlamaInfo, type LlamaNative, loadLlamaNative } from "./native.js"

/** One token to decode: its id, position, the sequences it extends, and whether its logits are wanted. */
export interface LlamaToken {
  readonly token: number
  readonly position: number
  readonly seqs: readonly number[]
  readonly output: boolean
}

/** Context sizing for a GGUF generator: threads, KV cells in all (capped by `kvMegabytes`), most rows decoded together. */
export interface LlamaSettings {
  readonly threads: number
  readonly contextTokens: number
  readonly kvMegabytes: number
  readonly sequences: number
}

/**
 * A GGUF causal LM run by llama.cpp: decodes batches of tokens over numbered sequences that share
 * one KV cache (a prompt's cells are shared by every sample of it), returning float32 logits of the
 * tokens asked for. Sequence ids are handed out and taken back here. Lives in a worker thread.
 */
export class LlamaEngine {
  private readonly free: number[]
  private logits: Float32Array

  private constructor(private readonly native: LlamaNative, private readonly handle: LlamaHandle, readonly info: LlamaInfo, private readonly path: string) {
    this.free = Array.from({ length: info.sequences }, (_, i) => info.sequences - 1 - i)
    this.logits = new Float32Array(info.vocab * 8)
  }

  /** Opens a GGUF file; throws `ModelUnsupported` naming the file when llama.cpp cannot load it. */
  static async open(path: string, settings: LlamaSettings): Promise<LlamaEngine> {
    const native = await loadLlamaNative()
    let handle: LlamaHandle
    try {
      handle = native.open(path, { ...settings, batchTokens: 512 })
    } catch (error) {
      throw new ModelUnsupported({ model: path, reason: (error as Error).message })
    }
    return new LlamaEngine(native, handle, native.info(handle), path)
  }

  /** Sequences not in use. */
  get freeSequences(): number {
    return this.free.length
  }

  /** Takes `count` unused sequence ids; throws when there are not that many. */
  claim(count: number): number[] {
    if (count > this.free.length) throw new InferenceFailed({ model: this.path, reason: `llama.cpp context has ${this.free.length} free sequences, ${count} needed` })
    return this.free.splice(this.free.length - count, count).reverse()
  }

  /** Drops a sequence's cached tokens and gives its id back. */
  release(seq: number): void {
    this.native.forget(this.handle, seq)
    this.free.push(seq)
  }

  /** Decodes `tokens` in one call (split into llama.cpp batches inside); returns the logits of the output tokens, row after row. */
  decode(tokens: readonly LlamaToken[]): Float32Array {
    const n = tokens.length
    const ids = new Int32Array(n)
    const positions = new Int32Array(n)
    const starts = new Int32Array(n + 1)
    const outputs = new Uint8Array(n)
    let seqCount = 0
    tokens.forEach((t, i) => {
      ids[i] = t.token
      positions[i] = t.position
      outputs[i] = t.output ? 1 : 0
      seqCount += t.seqs.length
      starts[i + 1] = seqCount
    })
    const seqs = new Int32Array(seqCount)
    tokens.forEach((t, i) => seqs.set(t.seqs, starts[i]!))
    const rows = outputs.reduce((sum, o) => sum + o, 0)
    if (this.logits.length < rows * this.info.vocab) this.logits = new Float32Array(rows * this.info.vocab)
    try {
      this.native.decode(this.handle, ids, positions, starts, seqs, outputs, this.logits)
    } catch (error) {
      throw new InferenceFailed({ model: this.path, reason: (error as Error).message })
    }
    return this.logits.subarray(0, rows * this.info.vocab)
  }

  /** Frees the model and its context. */
  close(): void {
    this.native.close(this.handle)
  }
}
