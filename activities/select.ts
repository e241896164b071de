import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import type { ScoredRow } from "../campaign/rows.js"
import { selectedFileOf, selectionSpecOf } from "../campaign/outputSpec.js"
import { selectShardRows } from "../campaign/shardSelection.js"
import type { WinnowError } from "../core/errors.js"
import { readRows, writeRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Applies the spec's selection policy to a shard's scored samples (`campaign/shardSelection.ts`)
 * and writes what it keeps; with `output` k ≥ 1, the policy of the spec's `outputs[k-1]` over the
 * same samples, into a work file of its own.
 */
export const select = (deps: ActivityDeps) => (input: ShardInput & { scored: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const scored = yield* readRows<ScoredRow>(input.scored.path)
    const extra = input.output !== undefined && input.output > 0
    const chosen = selectShardRows(scored, extra ? { spec: selectionSpecOf(input.spec, input.output), round: input.round } : input)
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, selectedFileOf(input.output))
    yield* writeRows(path, chosen)
    return { path, rows: chosen.length }
  })
