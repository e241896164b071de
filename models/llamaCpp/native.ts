import { renameSync, rmSync } from "node:fs"
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
  /** F16 keys and values over every layer: bytes one cached token takes. */
  readonly kvBytesPerToken: number
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
  /** llama.cpp's quantizer (what `llama-quantize` runs): an F32/F16 GGUF file to `ftype` (a `llama_ftype`). */
  quantize(input: string, output: string, options: { readonly ftype: number; readonly pure?: number; readonly threads?: number }): void
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

/** The GGUF types `quantizeGguf` makes, by their llama.cpp file-type number (`llama_ftype`). */
export const GGUF_QUANT_TYPES = { q8_0: 7, q4_0: 2, q4_k_m: 15, q5_k_m: 17, q6_k: 18 } as const

/** One of `GGUF_QUANT_TYPES`. */
export type GgufQuantType = keyof typeof GGUF_QUANT_TYPES

/**
 * Quantizes an F32 or F16 GGUF file to `type` with llama.cpp's own quantizer (the one
 * `llama-quantize` runs; `pure` quantizes every tensor to that type, token embedding and output
 * included), writing `output` through a temporary file so a failed run leaves nothing behind.
 */
export const quantizeGguf = async (input: string, output: string, type: GgufQuantType, options: { readonly pure?: boolean; readonly threads?: number } = {}): Promise<void> => {
  const native = await loadLlamaNative()
  const partial = `${output}.partial-${process.pid}`
  try {
    native.quantize(input, partial, { ftype: GGUF_QUANT_TYPES[type], pure: options.pure ? 1 : 0, threads: options.threads ?? 1 })
    renameSync(partial, output)
  } finally {
    rmSync(partial, { force: true })
  }
}
