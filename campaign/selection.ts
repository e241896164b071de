import { DEFAULTS } from "../core/defaults.js"

/**
 * Selection policies: how scored samples become records. Pure and deterministic (ties go to
 * the lower sample index; sampled choices come from a caller-supplied seeded draw), so the
 * workflow may import the helpers that size shards, and activities apply the policies.
 */

/** A scored sample as selection sees it. `passed` is false when a hard filter rejected it. */
export interface Candidate {
  readonly promptIndex: number
  readonly sampleIndex: number
  readonly score: number
  readonly passed?: boolean
}

/** The selection policies a spec can name. */
export type SelectionPolicy = "best_of_n" | "threshold" | "preference_pairs"

/** How preference pairs pick the rejected sample. */
export type RejectedPick = "worst" | "sampled"

/** The selection part of a spec as written (optional fields not yet resolved per policy). */
export interface SelectionInput {
  readonly policy: SelectionPolicy
  readonly k?: number
  readonly min_score?: number
  readonly rejected?: RejectedPick
  readonly min_margin?: number
  readonly accept_until?: number
}

/** A selection with every per-policy default applied. */
export interface ResolvedSelection {
  readonly policy: SelectionPolicy
  /** Records per prompt: samples kept (best-of-N, threshold) or pairs formed (preference pairs). */
  readonly k: number
  readonly minScore?: number
  readonly rejected: RejectedPick
  readonly minMargin: number
  readonly acceptUntil?: number
}

/**
 * Applies the per-policy defaults: best-of-N keeps k = 1, threshold keeps every sample that
 * clears `min_score` (k = n), preference pairs form one pair per prompt against the worst sample.
 */
export const resolveSelection = (spec: SelectionInput, n: number): ResolvedSelection => ({
  policy: spec.policy,
  k: spec.k ?? (spec.policy === "threshold" ? n : DEFAULTS.selection.k),
  ...(spec.min_score !== undefined ? { minScore: spec.min_score } : {}),
  rejected: spec.rejected ?? DEFAULTS.selection.rejected,
  minMargin: spec.min_margin ?? DEFAULTS.selection.min_margin,
  ...(spec.accept_until !== undefined ? { acceptUntil: spec.accept_until } : {})
})

/** The most records one prompt can yield with n samples; sizes the last shards under accept-until-K. */
export const maxRecordsPerPrompt = (selection: ResolvedSelection, n: number): number =>
  selection.policy === "preference_pairs" ? Math.min(selection.k, Math.max(0, n - 1)) : Math.min(selection.k, n)

const usable = (c: Candidate): boolean => Number.isFinite(c.score) && c.passed !== false
const byScoreDesc = (a: Candidate, b: Candidate): number => b.score - a.score || a.sampleIndex - b.sampleIndex

const groupByPrompt = <C extends Candidate>(candidates: readonly C[]): Array<[number, C[]]> => {
  const groups = new Map<number, C[]>()
  for (const c of candidates) {
    const group = groups.get(c.promptIndex) ?? []
    group.push(c)
    groups.set(c.promptIndex, group)
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0])
}

/** Parameters of best-of-N and threshold selection. */
export interface TopK {
  readonly k: number
  readonly minScore?: number
}

/**
 * Best-of-N (and threshold, which is the same rule with k = n and a required `minScore`): per
 * prompt, keep the `k` highest-scoring samples that passed every filter and score at least
 * `minScore`. Ties go to the lower sample index.
 */
export const selectBestOfN = <C extends Candidate>(candidates: readonly C[], policy: TopK): C[] =>
  groupByPrompt(candidates).flatMap(([, group]) =>
    group
      .filter((c) => usable(c) && (policy.minScore === undefined || c.score >= policy.minScore))
      .sort(byScoreDesc)
      .slice(0, policy.k)
  )

/** A preference pair from one prompt's samples. */
export interface Pair<C extends Candidate> {
  readonly chosen: C
  readonly rejected: C
  readonly margin: number
}

/** Parameters of preference-pair selection. */
export interface PairPolicy {
  /** Pairs per prompt (each against a different rejected sample). */
  readonly k: number
  readonly minScore?: number
  readonly minMargin: number
  readonly rejected: RejectedPick
  /** A uniform number in [0, 1) for the `draw`-th sampled pick of a prompt; must be seeded. */
  readonly draw?: (promptIndex: number, draw: number) => number
}

/**
 * Preference pairs: chosen = the prompt's best sample that passed every filter (and clears
 * `minScore`); rejected = the worst eligible sample, or one drawn uniformly with `draw`. A sample
 * is eligible when it failed a filter (failing counts as worse than any passing sample) or scores
 * at least `minMargin` below the chosen one (and strictly below it). Prompts without an eligible
 * pair yield nothing.
 */
export const selectPairs = <C extends Candidate>(candidates: readonly C[], policy: PairPolicy): Pair<C>[] =>
  groupByPrompt(candidates).flatMap(([promptIndex, group]) => {
    const chosen = group.filter(usable).sort(byScoreDesc)[0]
    if (!chosen || (policy.minScore !== undefined && chosen.score < policy.minScore)) return []
    const eligible = group
      .filter((c) => c !== chosen && Number.isFinite(c.score))
      .filter((c) => c.passed === false || (chosen.score - c.score > 0 && chosen.score - c.score >= policy.minMargin))
      .sort((a, b) => Number(a.passed !== false) - Number(b.passed !== false) || a.score - b.score || a.sampleIndex - b.sampleIndex)
    const picks = policy.rejected === "worst" ? eligible.slice(0, policy.k) : drawWithoutReplacement(eligible, policy.k, (i) => {
      if (!policy.draw) throw new Error("selectPairs: rejected \"sampled\" needs a seeded draw")
      return policy.draw(promptIndex, i)
    })
    return picks.map((rejected) => ({ chosen, rejected, margin: chosen.score - rejected.score }))
  })

const drawWithoutReplacement = <T>(items: readonly T[], count: number, uniform: (i: number) => number): T[] => {
  const pool = [...items]
  const out: T[] = []
  for (let i = 0; i < count && pool.length > 0; i++) {
    const at = Math.min(pool.length - 1, Math.floor(uniform(i) * pool.length))
    out.push(pool.splice(at, 1)[0]!)
  }
  return out
}

/**
 * Keeps at most `limit` items, the highest by `rank` (ties to the earlier item), in their
 * original order. Use to cap the last shards under accept-until-K.
 */
export const capRecords = <T>(items: readonly T[], limit: number | undefined, rank: (item: T) => number): T[] => {
  if (limit === undefined || items.length <= limit) return [...items]
  const keep = new Set(
    items
      .map((item, i) => ({ i, r: rank(item) }))
      .sort((a, b) => b.r - a.r || a.i - b.i)
      .slice(0, Math.max(0, limit))
      .map((x) => x.i)
  )
  return items.filter((_, i) => keep.has(i))
}
