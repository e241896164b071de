import { detectLanguage, textUnits } from "../core/text.js"
import type { LanguageMix, ScoreCorrelation, ScoreHistogram } from "./contracts.js"

/**
 * The plain-data distributions a round records beside its summaries (`campaign/roundStats.ts`):
 * per-score histograms of all samples against kept ones, correlations between scores, language
 * mix and text lengths. Pure functions of numbers and texts, so a report can also compute them
 * again from a round's work files.
 */

/** Bins of every score histogram a round records. */
export const HISTOGRAM_BINS = 20

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/**
 * Equal-width histogram over [lo, hi] of the finite `all` values (hi = lo + 1 when they are all
 * equal), with the `kept` values counted in the same bins. Null when `all` has no finite value.
 * Use it for "all vs kept" charts: both count arrays share the edges.
 */
export const scoreHistogram = (all: readonly number[], kept: readonly number[], bins = HISTOGRAM_BINS): ScoreHistogram | null => {
  const finite = all.filter(Number.isFinite)
  if (finite.length === 0) return null
  let lo = Infinity
  let top = -Infinity
  for (const v of finite) {
    if (v < lo) lo = v
    if (v > top) top = v
  }
  const hi = top > lo ? top : lo + 1
  const count = (values: readonly number[]) => {
    const counts = new Array<number>(bins).fill(0)
    for (const v of values) {
      if (!Number.isFinite(v)) continue
      const bin = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))
      counts[bin]!++
    }
    return counts
  }
  return { lo: round6(lo), hi: round6(hi), all: count(finite), kept: count(kept) }
}

/** Pearson correlation of paired values (finite pairs only); null with fewer than 3 pairs or no spread. */
export const pearson = (xs: readonly number[], ys: readonly number[]): number | null => {
  const pairs = xs.flatMap((x, i) => (Number.isFinite(x) && Number.isFinite(ys[i]) ? [[x, ys[i]!] as const] : []))
  if (pairs.length < 3) return null
  const mx = pairs.reduce((a, [x]) => a + x, 0) / pairs.length
  const my = pairs.reduce((a, [, y]) => a + y, 0) / pairs.length
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  }
  return sxx === 0 || syy === 0 ? null : round6(sxy / Math.sqrt(sxx * syy))
}

/** Average ranks (ties share the mean of their ranks), for Spearman's correlation. */
const ranks = (values: readonly number[]): number[] => {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
  const out = new Array<number>(values.length)
  for (let start = 0; start < order.length;) {
    let end = start
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++
    for (let k = start; k <= end; k++) out[order[k]![1]] = (start + end) / 2
    start = end + 1
  }
  return out
}

/** Spearman's rank correlation of paired values (finite pairs only); null as for `pearson`. */
export const spearman = (xs: readonly number[], ys: readonly number[]): number | null => {
  const keep = xs.flatMap((x, i) => (Number.isFinite(x) && Number.isFinite(ys[i]) ? [i] : []))
  return pearson(ranks(keep.map((i) => xs[i]!)), ranks(keep.map((i) => ys[i]!)))
}

/**
 * Correlations between every pair of named columns over the same samples (the combined score is
 * the column `score`): does the reward model agree with the verifier? Pairs in column order.
 */
export const scoreCorrelations = (columns: ReadonlyArray<{ readonly name: string; readonly values: readonly number[] }>): ScoreCorrelation[] =>
  columns.flatMap((a, i) => columns.slice(i + 1).map((b) => ({
    a: a.name,
    b: b.name,
    n: a.values.filter((x, k) => Number.isFinite(x) && Number.isFinite(b.values[k])).length,
    pearson: pearson(a.values, b.values),
    spearman: spearman(a.values, b.values)
  })))

/** How many texts are Chinese, Japanese, Korean, other letters (`latin`) or have no letters (`none`), by `detectLanguage`. */
export const languageMix = (texts: readonly string[]): LanguageMix => {
  const mix: Record<string, number> = {}
  for (const text of texts) {
    const language = detectLanguage(text)
    mix[language] = (mix[language] ?? 0) + 1
  }
  return mix
}

/** Length of a text in units: CJK characters and words (the measure every text metric uses). */
export const unitLength = (text: string): number => textUnits(text).length
