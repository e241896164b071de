import { Effect } from "effect"
import type { ShardInput, ShardResult, WorkRef } from "../campaign/contracts.js"
import { selectBestOfN } from "../campaign/selection.js"
import type { WinnowError } from "../core/errors.js"
import { makeRecord, type SftRecord } from "../datasets/record.js"
import type { ActivityDeps } from "./deps.js"
import { conversationOf, readShardPrompts } from "./generate.js"
import type { ScoredRow } from "./score.js"
import { readRows, writeRows } from "./workArea.js"

/** Applies the selection policy (best-of-N, top k per prompt, minimum score) to a shard. */
export const select = (deps: ActivityDeps) => (input: ShardInput & { scored: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const scored = yield* readRows<ScoredRow>(input.scored.path)
    const { k, min_score } = input.spec.selection
    const chosen = selectBestOfN(
      scored.map((row) => ({ ...row, promptIndex: row.prompt_index, sampleIndex: row.sample_index })),
      min_score === undefined ? { k } : { k, minScore: min_score }
    ).map(({ promptIndex: _p, sampleIndex: _s, ...row }) => row)
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "selected")
    yield* writeRows(path, chosen)
    return { path, rows: chosen.length }
  })

/** Turns a shard's selected samples into SFT records and stages them as one segment. */
export const stage = (deps: ActivityDeps) => (input: ShardInput & { selected: WorkRef }): Effect.Effect<ShardResult["segment"], WinnowError> =>
  Effect.gen(function* () {
    const selected = yield* readRows<ScoredRow>(input.selected.path)
    const prompts = yield* readShardPrompts(deps, input)
    const records: SftRecord[] = selected.map((row) => {
      const prompt = prompts[row.prompt_index - input.shard.start]!
      return makeRecord({
        kind: "sft" as const,
        prompt_id: row.prompt_id,
        messages: conversationOf(input, prompt).map((m) => ({ role: m.role, content: m.content })),
        response: row.text,
        score: row.score,
        scores: row.scores,
        round: input.round,
        sample_index: row.sample_index,
        ...(prompt.reference !== undefined ? { reference: prompt.reference } : {}),
        meta: { finish: row.finish, tokens: row.token_count, logprob_mean: row.logprob_mean }
      })
    })
    const ref = yield* deps.store.stageSegment({ campaignId: input.campaignId, round: input.round, shard: input.shard.index, records })
    return { hash: ref.hash, records: ref.records }
  })
