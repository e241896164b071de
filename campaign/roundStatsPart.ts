/**
 * What a round's statistics are built from, for one part of its samples (a shard's) as plain
 * data: numbers per sample and per accepted record, counts, and the distinct n-grams (n = 1, 2) of
 * the accepted texts. A shard computes its part beside its selection (`RoundStatsBuilder.part`);
 * the round adds the parts in shard order (`addPart`) and gets what adding every row gives. In
 * JSON a missing score (NaN) is null; `addPart` reads null back as NaN.
 */
export interface RoundStatsPart {
  readonly scorers: readonly string[]
  readonly groups: readonly number[]
  readonly combined: readonly (number | null)[]
  readonly passedCombined: readonly (number | null)[]
  readonly columns: readonly (readonly (number | null)[])[]
  readonly keptCombined: readonly (number | null)[]
  readonly keptColumns: readonly (readonly (number | null)[])[]
  readonly tokens: readonly number[]
  readonly keptTokens: readonly number[]
  readonly units: readonly number[]
  readonly keptUnits: readonly number[]
  readonly languages: Readonly<Record<string, number>>
  readonly keptLanguages: Readonly<Record<string, number>>
  readonly truncated: Readonly<Record<string, number>>
  readonly failed: Readonly<Record<string, number>>
  readonly grams: readonly [readonly string[], readonly string[]]
  readonly gramTotals: readonly [number, number]
  readonly passed: number
  readonly lengthStopped: number
}

/** Numbers of a part's array as JSON gave them back: null (a missing score) becomes NaN. */
export const numbersOf = (values: readonly (number | null)[]): number[] => values.map((v) => (v === null ? Number.NaN : v))

/** The shard work file (`<name>.jsonl`) holding its part of the round's statistics, written by the select activity. */
export const STATS_PART_FILE = "stats-part"
