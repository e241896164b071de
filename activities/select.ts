import { Effect } from "effect"
import type { ShardInput, ShardResult, WorkRef } from "../campaign/contracts.js"
import { capRecords, resolveSelection, selectBestOfN, selectPairs } from "../campaign/selection.js"
import type { WinnowError } from "../core/errors.js"
import { sha256 } from "../core/hash.js"
import { type DpoRecord, makeRecord, type SftRecord } from "../datasets/record.js"
import type { ActivityDeps } from "./deps.js"
import { conversationOf, readShardPrompts } from "./generate.js"
import type { ScoredRow } from "./score.js"
import { readRows, writeRows } from "./workArea.js"

/** A preference pair as stored in a shard's `selected.jsonl` under `preference_pairs`. */
export interface SelectedPair {
  readonly prompt_index: number
  readonly prompt_id: string
  readonly chosen: ScoredRow
  readonly rejected: ScoredRow
  readonly margin: number
}

/** What `selected.jsonl` holds: kept samples (best-of-N, threshold) or preference pairs. */
export type SelectedRow = ScoredRow | SelectedPair

/** True for a preference pair row. */
export const isPair = (row: SelectedRow): row is SelectedPair => "chosen" in row

/**
 * A uniform number in [0, 1) for the `draw`-th pick of a prompt, from (campaign seed, round,
 * prompt id, draw): the same campaign always draws the same rejected samples.
 */
export const selectionDraw = (seed: number, round: number, promptId: string, draw: number): number =>
  Number.parseInt(sha256(`select/${seed}/${round}/${promptId}/${draw}`).slice(0, 8), 16) / 2 ** 32

/**
 * Applies the selection policy to a shard's scored samples: best-of-N or threshold keep samples,
 * preference pairs form (chosen, rejected) pairs. Under accept-until-K the shard's `acceptLimit`
 * caps the records, keeping the highest-scoring ones.
 */
export const select = (deps: ActivityDeps) => (input: ShardInput & { scored: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const scored = yield* readRows<ScoredRow>(input.scored.path)
    const selection = resolveSelection(input.spec.selection, input.spec.generator.n)
    const candidates = scored.map((row) => ({ row, promptIndex: row.prompt_index, sampleIndex: row.sample_index, score: row.score, passed: row.passed }))
    const minScore = selection.minScore === undefined ? {} : { minScore: selection.minScore }
    let chosen: SelectedRow[]
    if (selection.policy === "preference_pairs") {
      const promptIds = new Map(scored.map((r) => [r.prompt_index, r.prompt_id]))
      const pairs = selectPairs(candidates, {
        k: selection.k,
        minMargin: selection.minMargin,
        rejected: selection.rejected,
        draw: (promptIndex, draw) => selectionDraw(input.spec.generator.seed, input.round, promptIds.get(promptIndex)!, draw),
        ...minScore
      })
      chosen = capRecords(pairs, input.acceptLimit, (p) => p.chosen.score).map((p): SelectedPair => ({
        prompt_index: p.chosen.row.prompt_index,
        prompt_id: p.chosen.row.prompt_id,
        chosen: p.chosen.row,
        rejected: p.rejected.row,
        margin: p.margin
      }))
    } else {
      chosen = capRecords(selectBestOfN(candidates, { k: selection.k, ...minScore }), input.acceptLimit, (c) => c.score).map((c) => c.row)
    }
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "selected")
    yield* writeRows(path, chosen)
    return { path, rows: chosen.length }
  })

const finiteScores = (scores: ScoredRow["scores"]): Record<string, number> =>
  Object.fromEntries(Object.entries(scores).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1])))

/**
 * Turns a shard's selected rows into records — SFT records from kept samples, DPO records from
 * pairs (score = the chosen one's; the rejected sample's scores go into `meta`) — and stages them
 * as one segment.
 */
export const stage = (deps: ActivityDeps) => (input: ShardInput & { selected: WorkRef }): Effect.Effect<ShardResult["segment"], WinnowError> =>
  Effect.gen(function* () {
    const selected = yield* readRows<SelectedRow>(input.selected.path)
    const prompts = yield* readShardPrompts(deps, input)
    const records: Array<SftRecord | DpoRecord> = selected.map((row) => {
      const prompt = prompts[row.prompt_index - input.shard.start]!
      const messages = conversationOf(input, prompt).map((m) => ({ role: m.role, content: m.content }))
      const reference = prompt.reference !== undefined ? { reference: prompt.reference } : {}
      if (isPair(row)) {
        return makeRecord({
          kind: "dpo" as const,
          prompt_id: row.prompt_id,
          messages,
          chosen: row.chosen.text,
          rejected: row.rejected.text,
          score: row.chosen.score,
          scores: finiteScores(row.chosen.scores),
          score_chosen: row.chosen.score,
          score_rejected: row.rejected.score,
          round: input.round,
          ...reference,
          meta: {
            margin: row.margin,
            chosen_sample: row.chosen.sample_index,
            rejected_sample: row.rejected.sample_index,
            rejected_scores: row.rejected.scores,
            rejected_passed: row.rejected.passed,
            ...(row.rejected.failed ? { rejected_failed: row.rejected.failed } : {})
          }
        })
      }
      return makeRecord({
        kind: "sft" as const,
        prompt_id: row.prompt_id,
        messages,
        response: row.text,
        score: row.score,
        scores: finiteScores(row.scores),
        round: input.round,
        sample_index: row.sample_index,
        ...reference,
        meta: { finish: row.finish, tokens: row.token_count, logprob_mean: row.logprob_mean }
      })
    })
    const ref = yield* deps.store.stageSegment({ campaignId: input.campaignId, round: input.round, shard: input.shard.index, records })
    return { hash: ref.hash, records: ref.records }
  })
