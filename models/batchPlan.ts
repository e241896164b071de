/** Limits of one batched generation (one prefill plus its decode steps). */
export interface BatchBudget {
  /** Most sequences decoded together. */
  readonly maxRows: number
  /** Most KV-cache tokens the batch may hold at its longest: Σ rows × (padded prompt + max_new_tokens). */
  readonly maxKvTokens: number
  /** Most tokens (padded prompts × groups) in the shared prefill. */
  readonly maxPrefillTokens: number
  /** A group joins a batch only while padded prefill tokens stay within this factor of real ones. */
  readonly maxPaddingRatio: number
}

/** Defaults sized for small CPU models: a few hundred MB of KV cache at most for typical layouts. */
export const DEFAULT_BATCH_BUDGET: BatchBudget = { maxRows: 64, maxKvTokens: 64 * 1024, maxPrefillTokens: 8192, maxPaddingRatio: 1.25 }

/** Most KV-cache bytes one batch may hold; with the model's bytes per token it caps the batch's KV tokens. */
export const MAX_KV_BYTES = 512 * 1024 * 1024

/** The most KV-cache bytes a batch of a model with `kvBytesPerToken` holds under `budget`. */
export const batchKvBytes = (kvBytesPerToken: number, budget: BatchBudget = DEFAULT_BATCH_BUDGET): number =>
  Math.min(budget.maxKvTokens * kvBytesPerToken, MAX_KV_BYTES)

/** One prompt's share of a batch: which prompt, which of its samples. */
export interface PlannedGroup {
  readonly prompt: number
  /** Index of the first sample of this share (a prompt with many samples may span batches). */
  readonly firstSample: number
  readonly samples: number
}

/**
 * Splits prompts (given by token length and sample count) into batches: shortest prompts
 * first so lengths in a batch are close (length bucketing), each batch within the row, KV-token,
 * prefill and padding budgets. A prompt whose samples exceed a budget is split across batches.
 * `kvBudget` is the KV budget in tokens after the caller converts bytes per token. Use before
 * `generateBatch`.
 */
export const planBatches = (
  lengths: readonly number[],
  samples: readonly number[],
  maxNewTokens: number,
  budget: BatchBudget = DEFAULT_BATCH_BUDGET
): PlannedGroup[][] => {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b)
  const batches: PlannedGroup[][] = []
  let current: PlannedGroup[] = []
  let rows = 0
  let realTokens = 0
  let width = 0
  const kvTokens = (w: number, r: number) => r * (w + maxNewTokens)
  const flush = () => {
    if (current.length > 0) batches.push(current)
    current = []
    rows = 0
    realTokens = 0
    width = 0
  }
  for (const prompt of order) {
    const length = lengths[prompt]!
    let firstSample = 0
    let left = samples[prompt]!
    if (left === 0) continue
    while (left > 0) {
      const w = Math.max(width, length)
      const groups = current.length + 1
      const fits =
        current.length === 0 ||
        (w * groups <= budget.maxPrefillTokens &&
          w * groups <= budget.maxPaddingRatio * (realTokens + length) &&
          rows < budget.maxRows &&
          kvTokens(w, rows + 1) <= budget.maxKvTokens)
      if (!fits) {
        flush()
        continue
      }
      const byRows = budget.maxRows - rows
      const byKv = Math.floor(budget.maxKvTokens / (w + maxNewTokens)) - rows
      const take = Math.max(1, Math.min(left, byRows, byKv))
      current.push({ prompt, firstSample, samples: take })
      rows += take
      realTokens += length
      width = w
      firstSample += take
      left -= take
      if (left > 0) flush()
    }
  }
  flush()
  return batches
}
