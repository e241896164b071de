/** A scored sample as selection sees it. */
export interface Candidate {
  readonly promptIndex: number
  readonly sampleIndex: number
  readonly score: number
}

/** Parameters of best-of-N selection. */
export interface BestOfN {
  readonly k: number
  readonly minScore?: number
}

/**
 * Best-of-N: per prompt, keep the `k` highest-scoring samples whose score is at least
 * `minScore`. Ties go to the lower sample index, so the choice is deterministic. Pure.
 */
export const selectBestOfN = <C extends Candidate>(candidates: readonly C[], policy: BestOfN): C[] => {
  const groups = new Map<number, C[]>()
  for (const c of candidates) {
    if (!Number.isFinite(c.score)) continue
    if (policy.minScore !== undefined && c.score < policy.minScore) continue
    const group = groups.get(c.promptIndex) ?? []
    group.push(c)
    groups.set(c.promptIndex, group)
  }
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .flatMap((key) =>
      groups.get(key)!
        .sort((a, b) => b.score - a.score || a.sampleIndex - b.sampleIndex)
        .slice(0, policy.k)
    )
}
