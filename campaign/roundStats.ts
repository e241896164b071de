import { textUnits } from "../core/text.js"
import type { RoundStats, ScoreSummary } from "./contracts.js"
import { languageMix, scoreCorrelations, scoreHistogram, unitLength } from "./roundDistributions.js"
import { keptSample, liveScores, type ScoredRow, type SelectedRow } from "./rows.js"

/** One scored sample of a round, as the statistics need it. */
export interface StatsSample {
  readonly group: number
  readonly scores: Readonly<Record<string, number>>
  readonly score: number
  readonly passed: boolean
  readonly truncated?: readonly string[]
  /** Scorers whose filter this sample failed, or whose value could not be ranked. */
  readonly failed?: readonly string[]
  /** The sample's text, generated tokens and why it stopped (lengths, language mix, cut at the token limit). */
  readonly text?: string
  readonly tokens?: number
  readonly finish?: string
}

/** One accepted record: the per-scorer and combined scores of the kept (chosen) response, and its text. */
export interface StatsRecord {
  readonly scores: Readonly<Record<string, number>>
  readonly score: number
  readonly text: string
  readonly tokens?: number
}

/** A scored work-file row as the statistics read it; use it for every reader of `scored.jsonl` rows. */
export const statsSampleOf = (row: ScoredRow): StatsSample => ({
  group: row.prompt_index, scores: liveScores(row.scores), score: row.score, passed: row.passed,
  text: row.text, tokens: row.token_count, finish: row.finish,
  ...(row.truncated ? { truncated: row.truncated } : {}), ...(row.failed ? { failed: row.failed } : {})
})

/** A selected work-file row (its kept sample) as the statistics read it. */
export const statsRecordOf = (row: SelectedRow): StatsRecord => {
  const kept = keptSample(row)
  return { scores: liveScores(kept.scores), score: kept.score, text: kept.text, tokens: kept.token_count }
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
 * the accepted responses, truncation counts per scorer, samples cut at the token limit, lengths,
 * language mix, all-vs-kept histograms and the correlations between scores. Use it wherever a
 * round's statistics are computed (the `roundStats` activity, a report over kept work files).
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
  const sampleTexts = samples.flatMap((s) => (s.text === undefined ? [] : [s.text]))
  const valuesOf = (name: string | null, rows: ReadonlyArray<StatsSample | StatsRecord>) => rows.map((r) => (name === null ? r.score : r.scores[name] ?? Number.NaN))
  const tokens = (rows: ReadonlyArray<StatsSample | StatsRecord>) => summarize(rows.flatMap((r) => (r.tokens === undefined ? [] : [r.tokens])))
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
    failed,
    length_stopped: samples.filter((s) => s.finish === "length").length,
    lengths: {
      tokens: { all: tokens(samples), accepted: tokens(accepted) },
      units: { all: summarize(sampleTexts.map(unitLength)), accepted: summarize(texts.map(unitLength)) }
    },
    languages: { all: languageMix(sampleTexts), accepted: languageMix(texts) },
    histograms: {
      combined: scoreHistogram(valuesOf(null, samples), valuesOf(null, accepted)),
      scores: Object.fromEntries(scorers.map((name) => [name, scoreHistogram(valuesOf(name, samples), valuesOf(name, accepted))]))
    },
    correlations: scoreCorrelations([...scorers.map((name) => ({ name, values: valuesOf(name, samples) })), { name: "score", values: valuesOf(null, samples) }])
  }
}
