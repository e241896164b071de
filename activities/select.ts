import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import type { ScoredRow } from "../campaign/rows.js"
import { selectedFileOf, selectionSpecOf } from "../campaign/outputSpec.js"
import { selectShardRows } from "../campaign/shardSelection.js"
import { inputInvalid, type WinnowError } from "../core/errors.js"
import { readRows, writeRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Applies the spec's selection policy to a shard's scored samples (`campaign/shardSelection.ts`)
 * and writes what it keeps; with `output` k ≥ 1, the policy of the spec's `outputs[k-1]` over the
 * same samples, into a work file of its own.
 */
export const select = (deps: ActivityDeps) => (input: ShardInput & { scored: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const spec = selectionSpecOf(input.spec, input.output)
    if (spec === undefined) return yield* Effect.fail(inputInvalid("select", "output", input.output, `an output of the spec (0 to ${input.spec.outputs?.length ?? 0})`))
    const scored = yield* readRows<ScoredRow>(input.scored.path)
    // The accept-until limit caps output 0 only: the campaign's quota counts its records.
    const chosen = selectShardRows(scored, spec === input.spec ? input : { spec, round: input.round })
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, selectedFileOf(input.output))
    yield* writeRows(path, chosen)
    return { path, rows: chosen.length }
  })
