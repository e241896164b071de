import { cachedBenchModel } from "../modelCache.js"
import { buildDecoder, type DecoderOptions, describeDecoder, readCorpus } from "../../tests/fixtures/index.js"

/**
 * The generate benchmark's model: a Llama-style decoder of about 37 M parameters (768 hidden,
 * 4 layers, 12 heads / 2 KV heads of 64, 3072 MLP) with random weights; its KV cache per token
 * relative to its weights is a few times a real small model's (4 KiB per token). Its EOS logit is
 * `eosBias + eosBiasRamp × position`, which makes EOS likely about 64 tokens after a 512-token
 * prompt, so best-of-N samples end at different lengths as real ones do.
 */
export const BENCH_MODEL_OPTIONS: DecoderOptions = {
  hidden: 768,
  layers: 4,
  heads: 12,
  kvHeads: 2,
  intermediate: 3072,
  maxPositions: 1024,
  seed: 11,
  logitStd: 1.5,
  eosBias: -25.6,
  eosBiasRamp: 0.05
}

/**
 * A model of a real small LLM's size for the peak-memory measurement alone: Qwen2.5-0.5B's
 * transformer shape (24 layers, 896 hidden, 14 heads / 2 KV heads of 64, 4864 MLP) with the bench
 * tokenizer's small vocabulary, so 0.36 B parameters, 1.35 GiB of float32 weights in an external
 * data file (as Optimum writes big models), and a 288 MiB cache at N = 16 × 768 tokens.
 */
export const LARGE_RSS_MODEL_OPTIONS: DecoderOptions = {
  hidden: 896,
  layers: 24,
  heads: 14,
  kvHeads: 2,
  intermediate: 4864,
  maxPositions: 1024,
  seed: 5,
  logitStd: 1.5,
  externalData: true
}

/**
 * The bench model's Llama twin for the llama.cpp comparison: the same sizes, seed and tokenizer,
 * but rotary positions and no lm_head bias (the learned position table, the bias and the EOS ramp
 * of `BENCH_MODEL_OPTIONS` have no GGUF equivalent). A constant EOS bias replaces the ramp, so
 * sampled rows end after about 64 tokens on average (geometrically spread rather than clustered).
 */
export const ROPE_BENCH_MODEL_OPTIONS: DecoderOptions = {
  hidden: 768,
  layers: 4,
  heads: 12,
  kvHeads: 2,
  intermediate: 3072,
  maxPositions: 1024,
  seed: 11,
  logitStd: 1.5,
  ropeTheta: 10000,
  eosBias: 6.5
}

/** The 0.36 B Qwen2.5-0.5B-shaped model with rotary positions (Qwen2.5's base 10⁶), for the llama.cpp comparison. */
export const ROPE_LARGE_MODEL_OPTIONS: DecoderOptions = { ...LARGE_RSS_MODEL_OPTIONS, ropeTheta: 1_000_000, eosBias: 22 }

/** Builds a rotary model once into the tool cache and returns its directory. */
export const ropeModelDir = (large: boolean): string =>
  large ? cachedBenchModel("generate-large-rope", ROPE_LARGE_MODEL_OPTIONS, buildDecoder) : cachedBenchModel("generate-rope", ROPE_BENCH_MODEL_OPTIONS, buildDecoder)

/** Builds the large RSS model once into the tool cache and returns its directory (about 20 s and 1.4 GB the first time). */
export const largeRssModelDir = (): string => cachedBenchModel("generate-large", LARGE_RSS_MODEL_OPTIONS, buildDecoder)

/** Builds the bench model once into the tool cache (keyed by its options) and returns its directory. */
export const benchModelDir = (): string => cachedBenchModel("generate", BENCH_MODEL_OPTIONS, buildDecoder)

/**
 * `count` prompts of exactly `length` token ids, cut from the bundled corpus at different
 * offsets (real text, so the byte-level BPE ids look like real prompts). Every peer gets these ids.
 */
export const benchPrompts = (count: number, length: number): number[][] => {
  const info = describeDecoder(BENCH_MODEL_OPTIONS)
  const ids = info.tokenizer.encoder.encode(readCorpus())
  return Array.from({ length: count }, (_, i) => {
    const start = (i * 997) % Math.max(1, ids.length - length)
    return ids.slice(start, start + length)
  })
}
