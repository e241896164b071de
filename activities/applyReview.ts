import { Effect, Stream } from "effect"
import { type ApplyReviewInput, type ReviewDecision, reviewMetaOf, type ReviewSummary, reviewSummaryOf } from "../campaign/review.js"
import type { WinnowError } from "../core/errors.js"
import { type DatasetRecord, makeRecord } from "../datasets/record.js"
import type { ActivityDeps } from "./deps.js"

/** A kept record after a reviewer's decision: dropped (reject), marked (accept), or rewritten with the new answer (edit). */
const decided = (record: DatasetRecord, decision: ReviewDecision): DatasetRecord | undefined => {
  if (decision.verdict === "reject") return undefined
  if (decision.verdict === "accept") return { ...record, meta: { ...record.meta, review: reviewMetaOf(decision) } }
  const text = decision.text!
  const original = { id: record.id, text: record.kind === "sft" ? record.response : record.chosen }
  const meta = { ...record.meta, review: reviewMetaOf(decision, original) }
  return record.kind === "sft" ? makeRecord({ ...record, response: text, meta }) : makeRecord({ ...record, chosen: text, meta })
}

/**
 * Applies a round's review decisions to its staging before the commit: each staged segment that
 * holds a decided record is staged again (same key) without the rejected records, with edited
 * records rewritten (new content, new id; the original id and answer kept in `meta.review`) and
 * every decided record's `meta.review` naming the reviewer, the verdict and when. Idempotent:
 * decisions are keyed by the ids the sample drew, so a retry finds rejected records gone and
 * edited ones already rewritten. Returns what the review found (`reviewSummaryOf`).
 */
export const applyReview = (deps: ActivityDeps) => (input: ApplyReviewInput): Effect.Effect<ReviewSummary, WinnowError> =>
  Effect.gen(function* () {
    const byItem = new Map(input.decisions.map((d) => [d.item, d]))
    let dropped = 0
    let edited = 0
    for (const segment of yield* deps.store.listStaged(input.campaignId, input.round, 0)) {
      const records = yield* Stream.runCollect(deps.store.readStaged(segment))
      if (!records.some((r) => byItem.has(r.id))) continue
      const after = records.flatMap((record) => {
        const decision = byItem.get(record.id)
        if (decision === undefined) return [record]
        if (decision.verdict === "reject") dropped++
        if (decision.verdict === "edit") edited++
        const next = decided(record, decision)
        return next ? [next] : []
      })
      yield* deps.store.stageSegment({ campaignId: input.campaignId, round: input.round, shard: segment.shard, records: after })
    }
    deps.logger.info({ campaignId: input.campaignId, round: input.round, decisions: input.decisions.length, dropped, edited }, "review applied")
    return reviewSummaryOf(input.items, input.decisions, input.outcome)
  })
