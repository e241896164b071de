import type { ScoredRow } from "./rows.js"

/**
 * Held-out evaluation, pure: which samples pass, the unbiased pass@k estimator, and the
 * statistics a round records about its generator on the eval set.
 */

/** A sample passes when every verifier accepted it (verifiers give 1 or 0). */
export const passesVerifiers = (scores: ScoredRow["scores"], verifiers: readonly string[]): boolean =>
  verifiers.length > 0 && verifiers.every((name) => (scores[name] ?? 0) >= 1 - 1e-9)

/**
 * The unbiased pass@k of one prompt from n samples of which c passed (Chen et al., 2021):
 * 1 − C(n−c, k) / C(n, k), computed as a product to stay exact for large n.
 */
export const passAtK = (n: number, c: number, k: number): number => {
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples, got ${n}`)
  if (n - c < k) return 1
  let miss = 1
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i
  return 1 - miss
}

/** The k values reported for n samples: 1, the powers of two below n, and n. */
export const reportedKs = (n: number): number[] => {
  const ks = new Set<number>([1])
  for (let k = 2; k < n; k *= 2) ks.add(k)
  ks.add(n)
  return [...ks].sort((a, b) => a - b)
}

/** What one evaluation of a generator measured on the held-out prompts. */
export interface EvalStats {
  /** 0: the generator the campaign started with; r: the generator after round r's improve step. */
  readonly round: number
  readonly model_hash: string
  readonly prompts: number
  readonly samples: number
  /** Mean over prompts of the share of samples that passed: the unbiased pass@1. */
  readonly pass_at_1: number
  /** pass@k by k (as a string key), for k in `reportedKs(n)`. */
  readonly pass_at_k: Readonly<Record<string, number>>
  /** Mean combined score over the eval samples ("mean reward"), and the mean of each scorer. */
  readonly mean_score: number | null
  readonly scores: Readonly<Record<string, number | null>>
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

const mean = (values: readonly number[]): number | null => {
  const finite = values.filter(Number.isFinite)
  return finite.length === 0 ? null : round6(finite.reduce((a, b) => a + b, 0) / finite.length)
}

/**
 * The statistics of one evaluation: rows are every scored eval sample (n per prompt), verifiers
 * the names of the verifier scorers. Prompts with fewer than n samples count with what they have.
 */
export const evalStatsOf = (round: number, modelHash: string, n: number, rows: readonly ScoredRow[], verifiers: readonly string[], scorers: readonly string[]): EvalStats => {
  const byPrompt = new Map<string, { samples: number; passed: number }>()
  for (const row of rows) {
    const tally = byPrompt.get(row.prompt_id) ?? { samples: 0, passed: 0 }
    tally.samples++
    if (passesVerifiers(row.scores, verifiers)) tally.passed++
    byPrompt.set(row.prompt_id, tally)
  }
  const tallies = [...byPrompt.values()]
  const averageOver = (k: number) =>
    tallies.length === 0 ? 0 : round6(tallies.reduce((sum, t) => sum + (t.samples >= k ? passAtK(t.samples, t.passed, k) : t.passed > 0 ? 1 : 0), 0) / tallies.length)
  return {
    round,
    model_hash: modelHash,
    prompts: tallies.length,
    samples: rows.length,
    pass_at_1: averageOver(1),
    pass_at_k: Object.fromEntries(reportedKs(n).map((k) => [String(k), averageOver(k)])),
    mean_score: mean(rows.map((r) => r.score)),
    scores: Object.fromEntries(scorers.map((name) => [name, mean(rows.map((r) => r.scores[name] ?? Number.NaN))]))
  }
}
