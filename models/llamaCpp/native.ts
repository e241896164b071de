import { createRequire } from "node:module"
import { ensureLlamaAddon, ensureNodeLlamaCpp, llamaCppDist } from "./install.js"

/** An opened GGUF model and its llama.cpp context (opaque). */
export type LlamaHandle = { readonly __llama: unique symbol }

/** Sizes of an opened model and its context. */
export interface LlamaInfo {
  readonly vocab: number
  readonly layers: number
  readonly embd: number
  readonly heads: number
  readonly kvHeads: number
  readonly trainContext: number
  readonly contextTokens: number
  readonly sequences: number
}

/** How to open a context: threads, KV cells shared by all sequences (fewer where they would pass `kvMegabytes`), most sequences, tokens per llama_decode. */
export interface LlamaOpenOptions {
  readonly threads: number
  readonly contextTokens: number
  readonly kvMegabytes: number
  readonly sequences: number
  readonly batchTokens: number
}

/** winnow's Node-API bridge to libllama (`native/winnow_llama.c`); every call blocks. */
export interface LlamaNative {
  init(libDir: string): void
  open(path: string, options: LlamaOpenOptions): LlamaHandle
  info(handle: LlamaHandle): LlamaInfo
  /** Decodes tokens (each in the sequences `seqIds[seqStarts[i]..seqStarts[i+1])`), copying the logits of flagged tokens in order; returns how many rows. */
  decode(handle: LlamaHandle, tokens: Int32Array, positions: Int32Array, seqStarts: Int32Array, seqIds: Int32Array, outputs: Uint8Array, logits: Float32Array): number
  /** Drops a sequence's KV cells (-1: all). */
  forget(handle: LlamaHandle, seq: number): void
  close(handle: LlamaHandle): void
}

let loaded: Promise<LlamaNative> | undefined

/**
 * The llama.cpp bridge, ready to open models: installs node-llama-cpp's prebuilt binaries and
 * compiles the bridge on first use (both cached in the tool cache), then loads ggml's CPU
 * backends. Once per process (or worker thread).
 */
export const loadLlamaNative = (log: (line: string) => void = () => {}): Promise<LlamaNative> => {
  loaded ??= (async () => {
    const dist = llamaCppDist(await ensureNodeLlamaCpp(log))
    const addon = await ensureLlamaAddon(dist, log)
    const native = createRequire(import.meta.url)(addon) as LlamaNative
    native.init(dist.libDir)
    return native
  })()
  loaded.catch(() => (loaded = undefined))
  return loaded
}
