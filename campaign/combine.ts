/**
 * Turning per-scorer values into one ranking score per sample: each scorer's values are
 * normalised within the prompt's group (z-score, rank, or raw), weighted and summed. Hard
 * filters are kept apart: a scorer with a `filter` gates samples and never adds to the score.
 * Pure; used by the score activity and by tests.
 */

/** How a scorer's values are normalised inside one prompt's group of samples before weighting. */
export type Normalization = "raw" | "zscore" | "rank"

/** The bounds a filter scorer's value must lie within (inclusive). */
export interface FilterBounds {
  readonly min?: number
  readonly max?: number
}

/** What combination needs to know about one scorer. */
export interface ScorerWeighting {
  readonly name: string
  readonly weight: number
  readonly normalize: Normalization
  readonly filter?: FilterBounds
}

/** One sample's raw per-scorer values, keyed by scorer name, with the prompt group it belongs to. */
export interface RawScores {
  readonly group: number
  readonly scores: Readonly<Record<string, number>>
}

/** One sample after combination: the ranking score, whether every filter passed, and why not. */
export interface Combined {
  readonly score: number
  readonly passed: boolean
  /** Names of the scorers whose filter failed or whose value was not a finite number. */
  readonly failed: readonly string[]
}

/**
 * Normalises one group's values. Non-finite values stay NaN and are left out of the group's
 * statistics. `zscore`: (x − mean) / population std, 0 when all values are equal. `rank`:
 * ascending rank scaled to [0, 1] with ties sharing their average rank, 0.5 for a lone value.
 */
export const normalizeGroup = (values: readonly number[], mode: Normalization): number[] => {
  if (mode === "raw") return values.map((v) => (Number.isFinite(v) ? v : Number.NaN))
  const finite = values.filter(Number.isFinite)
  if (mode === "zscore") {
    const mean = finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length)
    const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, finite.length)
    const std = Math.sqrt(variance)
    return values.map((v) => (!Number.isFinite(v) ? Number.NaN : std > 1e-12 ? (v - mean) / std : 0))
  }
  const sorted = [...finite].sort((a, b) => a - b)
  const rankOf = (v: number): number => {
    let lo = 0
    while (sorted[lo]! < v) lo++
    let hi = lo
    while (hi + 1 < sorted.length && sorted[hi + 1] === v) hi++
    return (lo + hi) / 2
  }
  return values.map((v) => (!Number.isFinite(v) ? Number.NaN : sorted.length < 2 ? 0.5 : rankOf(v) / (sorted.length - 1)))
}

/** True when `value` lies within the filter's bounds. */
export const passesFilter = (value: number, bounds: FilterBounds): boolean =>
  Number.isFinite(value) && (bounds.min === undefined || value >= bounds.min) && (bounds.max === undefined || value <= bounds.max)

/**
 * Combines every sample's scores: ranking scorers (no `filter`) are normalised per group and
 * summed with their weights; filter scorers decide `passed`. A ranking scorer whose value is not
 * finite fails the sample too, since it cannot be ranked. Returns one result per input, in order.
 */
export const combineScores = (rows: readonly RawScores[], scorers: readonly ScorerWeighting[]): Combined[] => {
  const groups = new Map<number, number[]>()
  rows.forEach((row, i) => {
    const members = groups.get(row.group) ?? []
    members.push(i)
    groups.set(row.group, members)
  })
  const normalized = scorers.map((scorer) => {
    const column = new Array<number>(rows.length)
    if (scorer.filter) return column
    for (const members of groups.values()) {
      const values = normalizeGroup(members.map((i) => rows[i]!.scores[scorer.name] ?? Number.NaN), scorer.normalize)
      members.forEach((i, j) => { column[i] = values[j]! })
    }
    return column
  })
  return rows.map((row, i) => {
    const failed: string[] = []
    let score = 0
    scorers.forEach((scorer, s) => {
      const raw = row.scores[scorer.name] ?? Number.NaN
      if (scorer.filter) {
        if (!passesFilter(raw, scorer.filter)) failed.push(scorer.name)
        return
      }
      const value = normalized[s]![i]!
      if (!Number.isFinite(value)) failed.push(scorer.name)
      else score += scorer.weight * value
    })
    return { score, passed: failed.length === 0, failed }
  })
}
