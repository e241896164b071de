import { detectLanguage, textUnits } from "../core/text.js"
import type { RoundStats, ScoreSummary } from "./contracts.js"
import { scoreCorrelations, scoreHistogram, unitLength } from "./roundDistributions.js"
import { keptSample, liveScores, type ScoredRow, type SelectedRow } from "./rows.js"
import { numbersOf, type RoundStatsPart } from "./roundStatsPart.js"

export type { RoundStatsPart } from "./roundStatsPart.js"

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

/** The best-of-N gain over parallel arrays of prompt groups and values (see `bestOfNGain`). */
const bestOfNGainOf = (groups: readonly number[], values: readonly number[]): number | null => {
  const best = new Map<number, number>()
  let sum = 0
  let count = 0
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!
    if (!Number.isFinite(value)) continue
    const group = groups[i]!
    best.set(group, Math.max(best.get(group) ?? -Infinity, value))
    sum += value
    count++
  }
  if (count === 0) return null
  const bests = [...best.values()]
  return round6(bests.reduce((a, b) => a + b, 0) / bests.length - sum / count)
}

/**
 * Best-of-N gain of one score: the mean over prompt groups of the group's best value, minus the
 * mean over all samples. What picking the best of N buys on that score; null without values.
 */
export const bestOfNGain = (samples: ReadonlyArray<{ readonly group: number; readonly value: number }>): number | null =>
  bestOfNGainOf(samples.map((s) => s.group), samples.map((s) => s.value))

/** Unique n-grams and all n-grams of texts seen so far, for a corpus-level distinct-n. */
class CorpusGrams {
  readonly grams = new Set<string>()
  total = 0
  constructor(private readonly n: number) {}
  add(units: readonly string[]): void {
    for (let i = 0; i + this.n <= units.length; i++) {
      this.grams.add(units.slice(i, i + this.n).join("\u0001"))
      this.total++
    }
  }
  merge(grams: readonly string[], total: number): void {
    for (const gram of grams) this.grams.add(gram)
    this.total += total
  }
  value(): number {
    return this.total === 0 ? 0 : round6(this.grams.size / this.total)
  }
}

/**
 * Corpus-level distinct-n of a set of texts: unique n-grams over all n-grams, where units are
 * characters for CJK text and words elsewhere (so it means the same for Chinese and English).
 * 0 when no text is long enough to hold an n-gram.
 */
export const corpusDistinctN = (texts: readonly string[], n: number): number => {
  const grams = new CorpusGrams(n)
  for (const text of texts) grams.add(textUnits(text))
  return grams.value()
}

const count = (into: Record<string, number>, key: string, by = 1) => { into[key] = (into[key] ?? 0) + by }


/**
 * A round's statistics built up a batch of samples at a time (`roundStats` in one call is the
 * same thing): each text is measured as it is added (units, language, n-grams) and only numbers
 * are kept, so a round of hundreds of thousands of samples can be added shard by shard, the caller
 * yielding between shards. The result is the same whatever the batches, in the same order.
 */
export class RoundStatsBuilder {
  private readonly groups: number[] = []
  private readonly prompts = new Set<number>()
  private readonly combined: number[] = []
  private readonly passedCombined: number[] = []
  private readonly columns: number[][]
  private readonly keptCombined: number[] = []
  private readonly keptColumns: number[][]
  private readonly tokens: number[] = []
  private readonly keptTokens: number[] = []
  private readonly units: number[] = []
  private readonly keptUnits: number[] = []
  private readonly languages: Record<string, number> = {}
  private readonly keptLanguages: Record<string, number> = {}
  private readonly truncated: Record<string, number> = {}
  private readonly failed: Record<string, number> = {}
  private readonly distinct = [new CorpusGrams(1), new CorpusGrams(2)] as const
  private passed = 0
  private lengthStopped = 0

  constructor(private readonly round: number, private readonly scorers: readonly string[]) {
    this.columns = scorers.map(() => [])
    this.keptColumns = scorers.map(() => [])
  }

  /** Adds scored samples (all of a round's, in any number of batches). */
  addSamples(samples: readonly StatsSample[]): void {
    for (const s of samples) {
      this.groups.push(s.group)
      this.prompts.add(s.group)
      this.combined.push(s.score)
      this.passedCombined.push(s.passed ? s.score : Number.NaN)
      this.scorers.forEach((name, j) => this.columns[j]!.push(s.scores[name] ?? Number.NaN))
      for (const name of s.truncated ?? []) count(this.truncated, name)
      for (const name of s.failed ?? []) count(this.failed, name)
      if (s.passed) this.passed++
      if (s.finish === "length") this.lengthStopped++
      if (s.tokens !== undefined) this.tokens.push(s.tokens)
      if (s.text !== undefined) {
        this.units.push(unitLength(s.text))
        count(this.languages, detectLanguage(s.text))
      }
    }
  }

  /** Adds accepted records (all of a round's, in any number of batches). */
  addAccepted(records: readonly StatsRecord[]): void {
    for (const r of records) {
      this.keptCombined.push(r.score)
      this.scorers.forEach((name, j) => this.keptColumns[j]!.push(r.scores[name] ?? Number.NaN))
      if (r.tokens !== undefined) this.keptTokens.push(r.tokens)
      const units = textUnits(r.text)
      this.keptUnits.push(units.length)
      count(this.keptLanguages, detectLanguage(r.text))
      for (const grams of this.distinct) grams.add(units)
    }
  }

  /** What was added so far as a part (see `RoundStatsPart`). */
  part(): RoundStatsPart {
    return {
      scorers: this.scorers, groups: this.groups, combined: this.combined, passedCombined: this.passedCombined, columns: this.columns,
      keptCombined: this.keptCombined, keptColumns: this.keptColumns, tokens: this.tokens, keptTokens: this.keptTokens,
      units: this.units, keptUnits: this.keptUnits, languages: this.languages, keptLanguages: this.keptLanguages,
      truncated: this.truncated, failed: this.failed, grams: [[...this.distinct[0].grams], [...this.distinct[1].grams]],
      gramTotals: [this.distinct[0].total, this.distinct[1].total], passed: this.passed, lengthStopped: this.lengthStopped
    }
  }

  /** Adds a part (of the same scorers) as if its samples and records were added here, in this order. */
  addPart(part: RoundStatsPart): void {
    const append = (into: number[], values: readonly (number | null)[]) => { for (const v of numbersOf(values)) into.push(v) }
    append(this.groups, part.groups)
    for (const group of part.groups) this.prompts.add(group)
    append(this.combined, part.combined)
    append(this.passedCombined, part.passedCombined)
    this.scorers.forEach((name, j) => {
      const at = part.scorers.indexOf(name)
      append(this.columns[j]!, at === -1 ? part.groups.map(() => null) : part.columns[at]!)
      append(this.keptColumns[j]!, at === -1 ? part.keptCombined.map(() => null) : part.keptColumns[at]!)
    })
    append(this.keptCombined, part.keptCombined)
    append(this.tokens, part.tokens)
    append(this.keptTokens, part.keptTokens)
    append(this.units, part.units)
    append(this.keptUnits, part.keptUnits)
    for (const [key, by] of Object.entries(part.languages)) count(this.languages, key, by)
    for (const [key, by] of Object.entries(part.keptLanguages)) count(this.keptLanguages, key, by)
    for (const [key, by] of Object.entries(part.truncated)) count(this.truncated, key, by)
    for (const [key, by] of Object.entries(part.failed)) count(this.failed, key, by)
    this.distinct[0].merge(part.grams[0], part.gramTotals[0])
    this.distinct[1].merge(part.grams[1], part.gramTotals[1])
    this.passed += part.passed
    this.lengthStopped += part.lengthStopped
  }

  /**
   * The statistics a campaign records for one round: each score's distribution over all samples
   * and over accepted records, best-of-N gains, acceptance and filter pass rates, distinct-1/2 of
   * the accepted responses, truncation counts per scorer, samples cut at the token limit, lengths,
   * language mix, all-vs-kept histograms and the correlations between scores.
   */
  result(): RoundStats {
    const samples = this.groups.length
    const accepted = this.keptCombined.length
    const column = (all: readonly number[], kept: readonly number[], gain: readonly number[]) => ({
      all: summarize(all), accepted: summarize(kept), best_of_n_gain: bestOfNGainOf(this.groups, gain)
    })
    return {
      round: this.round,
      samples,
      prompts: this.prompts.size,
      accepted,
      acceptance_rate: samples === 0 ? 0 : round6(accepted / samples),
      filter_pass_rate: samples === 0 ? 0 : round6(this.passed / samples),
      combined: column(this.combined, this.keptCombined, this.passedCombined),
      scores: Object.fromEntries(this.scorers.map((name, j) => [name, column(this.columns[j]!, this.keptColumns[j]!, this.columns[j]!)])),
      distinct_1: this.distinct[0].value(),
      distinct_2: this.distinct[1].value(),
      truncated: this.truncated,
      failed: this.failed,
      length_stopped: this.lengthStopped,
      lengths: {
        tokens: { all: summarize(this.tokens), accepted: summarize(this.keptTokens) },
        units: { all: summarize(this.units), accepted: summarize(this.keptUnits) }
      },
      languages: { all: this.languages, accepted: this.keptLanguages },
      histograms: {
        combined: scoreHistogram(this.combined, this.keptCombined),
        scores: Object.fromEntries(this.scorers.map((name, j) => [name, scoreHistogram(this.columns[j]!, this.keptColumns[j]!)]))
      },
      correlations: scoreCorrelations([...this.scorers.map((name, j) => ({ name, values: this.columns[j]! })), { name: "score", values: this.combined }])
    }
  }
}

/**
 * The statistics a campaign records for one round (see `RoundStatsBuilder.result`), from all of
 * its samples and accepted records at once. Use it wherever a round's statistics are computed
 * from rows in memory (a report over kept work files); the `roundStats` activity adds shard by shard.
 */
export const roundStats = (round: number, scorers: readonly string[], samples: readonly StatsSample[], accepted: readonly StatsRecord[]): RoundStats => {
  const builder = new RoundStatsBuilder(round, scorers)
  builder.addSamples(samples)
  builder.addAccepted(accepted)
  return builder.result()
}
