import { textUnits } from "../core/text.js"
import type { RoundStats, ScoreSummary } from "./contracts.js"

/** One scored sample of a round, as the statistics need it. */
export interface StatsSample {
  readonly group: number
  readonly scores: Readonly<Record<string, number>>
  readonly score: number
  readonly passed: boolean
  readonly truncated?: readonly string[]
  /** Scorers whose filter this sample failed, or whose value could not be ranked. */
  readonly failed?: readonly string[]
}

/** One accepted record: the per-scorer and combined scores of the kept (chosen) response, and its text. */
export interface StatsRecord {
  readonly scores: Readonly<Record<string, number>>
  readonly score: number
  readonly text: string
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/** Mean, min, max and nearest-rank p10/p50/p90 of the finite values; null when there are none. */
export const summarize = (values: readonly number[]): ScoreSummary | null => {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return null
  const rank = (p: number) => finite[Math.max(0, Math.ceil(p * finite.length) - 1)]!
  return {
    count: finite.length,
    mean: round6(finite.reduce((a, b) => a + b, 0) / finite.length),
    min: round6(finite[0]!),
    p10: round6(rank(0.1)),
    p50: round6(rank(0.5)),
    p90: round6(rank(0.9)),
    max: round6(finite.at(-1)!)
  }
}

/**
 * Best-of-N gain of one score: the mean over prompt groups of the group's best value, minus the
 * mean over all samples. What picking the best of N buys on that score; null without values.
 */
export const bestOfNGain = (samples: ReadonlyArray<{ readonly group: number; readonly value: number }>): number | null => {
  const best = new Map<number, number>()
  let sum = 0
  let count = 0
  for (const { group, value } of samples) {
    if (!Number.isFinite(value)) continue
    best.set(group, Math.max(best.get(group) ?? -Infinity, value))
    sum += value
    count++
  }
  if (count === 0) return null
  const bests = [...best.values()]
  return round6(bests.reduce((a, b) => a + b, 0) / bests.length - sum / count)
}

/**
 * Corpus-level distinct-n of a set of texts: unique n-grams over all n-grams, where units are
 * characters for CJK text and words elsewhere (so it means the same for Chinese and English).
 * 0 when no text is long enough to hold an n-gram.
 */
export const corpusDistinctN = (texts: readonly string[], n: number): number => {
  const grams = new Set<string>()
  let total = 0
  for (const text of texts) {
    const units = textUnits(text)
    for (let i = 0; i + n <= units.length; i++) {
      grams.add(units.slice(i, i + n).join("\u0001"))
      total++
    }
  }
  return total === 0 ? 0 : round6(grams.size / total)
}

/**
 * The statistics a campaign records for one round: each score's distribution over all samples
 * and over accepted records, best-of-N gains, acceptance and filter pass rates, distinct-1/2 of
 * the accepted responses, and truncation counts per scorer.
 */
export const roundStats = (round: number, scorers: readonly string[], samples: readonly StatsSample[], accepted: readonly StatsRecord[]): RoundStats => {
  const column = (name: string | null) => ({
    all: summarize(samples.map((s) => (name === null ? s.score : s.scores[name] ?? Number.NaN))),
    accepted: summarize(accepted.map((r) => (name === null ? r.score : r.scores[name] ?? Number.NaN))),
    best_of_n_gain: bestOfNGain(samples.map((s) => ({ group: s.group, value: name === null ? (s.passed ? s.score : Number.NaN) : s.scores[name] ?? Number.NaN })))
  })
  const truncated: Record<string, number> = {}
  for (const sample of samples) for (const name of sample.truncated ?? []) truncated[name] = (truncated[name] ?? 0) + 1
  const failed: Record<string, number> = {}
  for (const sample of samples) for (const name of sample.failed ?? []) failed[name] = (failed[name] ?? 0) + 1
  const texts = accepted.map((r) => r.text)
  return {
    round,
    samples: samples.length,
    prompts: new Set(samples.map((s) => s.group)).size,
    accepted: accepted.length,
    acceptance_rate: samples.length === 0 ? 0 : round6(accepted.length / samples.length),
    filter_pass_rate: samples.length === 0 ? 0 : round6(samples.filter((s) => s.passed).length / samples.length),
    combined: column(null),
    scores: Object.fromEntries(scorers.map((name) => [name, column(name)])),
    distinct_1: corpusDistinctN(texts, 1),
    distinct_2: corpusDistinctN(texts, 2),
    truncated,
    failed
  }
}
