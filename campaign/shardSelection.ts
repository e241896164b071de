import { selectionDraw } from "../core/seeds.js"
import type { ScoredRow, SelectedPair, SelectedRow } from "./rows.js"
import { capRecords, resolveSelection, selectBestOfN, selectPairs } from "./selection.js"
import type { CampaignSpec } from "./spec.js"

/** What selecting one shard's rows depends on besides the rows. */
export interface ShardSelectionInput {
  readonly spec: Pick<CampaignSpec, "selection" | "generator">
  readonly round: number
  /** Under accept-until-K: the most records this shard may keep. */
  readonly acceptLimit?: number
}

/**
 * Applies the selection policy to a shard's scored samples: best-of-N or threshold keep samples,
 * preference pairs form (chosen, rejected) pairs with rejected draws seeded from (campaign seed,
 * round, prompt id). Under accept-until-K `acceptLimit` caps the records, keeping the
 * highest-scoring ones. Pure: the select activity reads and writes around it.
 */
export const selectShardRows = (scored: readonly ScoredRow[], input: ShardSelectionInput): SelectedRow[] => {
  const selection = resolveSelection(input.spec.selection, input.spec.generator.n)
  const candidates = scored.map((row) => ({ row, promptIndex: row.prompt_index, sampleIndex: row.sample_index, score: row.score, passed: row.passed }))
  const minScore = selection.minScore === undefined ? {} : { minScore: selection.minScore }
  if (selection.policy !== "preference_pairs") {
    return capRecords(selectBestOfN(candidates, { k: selection.k, ...minScore }), input.acceptLimit, (c) => c.score).map((c) => c.row)
  }
  const promptIds = new Map(scored.map((r) => [r.prompt_index, r.prompt_id]))
  const pairs = selectPairs(candidates, {
    k: selection.k,
    minMargin: selection.minMargin,
    rejected: selection.rejected,
    draw: (promptIndex, draw) => selectionDraw(input.spec.generator.seed, input.round, promptIds.get(promptIndex)!, draw),
    ...minScore
  })
  return capRecords(pairs, input.acceptLimit, (p) => p.chosen.score).map((p): SelectedPair => ({
    prompt_index: p.chosen.row.prompt_index,
    prompt_id: p.chosen.row.prompt_id,
    chosen: p.chosen.row,
    rejected: p.rejected.row,
    margin: p.margin
  }))
}
