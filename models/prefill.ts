import type { DecoderSession, ForwardOutput, KvCache } from "./decoderSession.js"

/** Most logits (elements) one prefill forward may return; beyond it the prompt is fed in chunks. */
export const DEFAULT_MAX_PREFILL_LOGITS = 64 * 1024 * 1024

/**
 * Runs the prompts of a batch through the model, left-padded to a common width, and returns the
 * last step's logits and the prompt cache. Graphs without `num_logits_to_keep` return logits for
 * every position (width × vocab floats per prompt: 300 MB for 512 tokens of a 150k vocabulary),
 * so the prompts are fed in chunks along the sequence, each chunk attending to the cache of the
 * previous ones, to keep every call within `maxLogits`. The padded positions are masked out.
 */
export const prefillPrompts = async (
  model: DecoderSession,
  prompts: ReadonlyArray<readonly number[]>,
  padId: number,
  maxLogits = DEFAULT_MAX_PREFILL_LOGITS
): Promise<ForwardOutput & { readonly width: number }> => {
  const batch = prompts.length
  const width = Math.max(...prompts.map((p) => p.length))
  const { vocab, logitsToKeep } = model.layout
  const chunk = logitsToKeep ? width : Math.max(1, Math.min(width, Math.floor(maxLogits / (batch * vocab))))
  let past: KvCache | undefined
  let out: ForwardOutput | undefined
  for (let from = 0; from < width; from += chunk) {
    const to = Math.min(width, from + chunk)
    const seq = to - from
    const inputIds = new BigInt64Array(batch * seq).fill(BigInt(padId))
    const positions = new BigInt64Array(batch * seq).fill(1n)
    const mask = new BigInt64Array(batch * to)
    prompts.forEach((ids, r) => {
      const pad = width - ids.length
      for (let t = Math.max(from, pad); t < to; t++) {
        inputIds[r * seq + t - from] = BigInt(ids[t - pad]!)
        positions[r * seq + t - from] = BigInt(t - pad)
      }
      if (pad < to) mask.fill(1n, r * to + pad, (r + 1) * to)
    })
    out = await model.forward({ batch, inputIds, attentionMask: mask, positionIds: positions, past, lastOnly: true })
    past = out.cache
  }
  return { ...out!, width }
}
