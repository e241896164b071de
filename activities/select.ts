import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import type { ScoredRow } from "../campaign/rows.js"
import { selectedFileOf, selectionSpecOf } from "../campaign/outputSpec.js"
import { RoundStatsBuilder, statsRecordOf, statsSampleOf } from "../campaign/roundStats.js"
import { STATS_PART_FILE } from "../campaign/roundStatsPart.js"
import { selectShardRows } from "../campaign/shardSelection.js"
import { inputInvalid, type WinnowError } from "../core/errors.js"
import { yieldToEventLoop } from "../core/eventLoop.js"
import { readRows, writeRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Applies the spec's selection policy to a shard's scored samples (`campaign/shardSelection.ts`)
 * and writes what it keeps; with `output` k ≥ 1, the policy of the spec's `outputs[k-1]` over the
 * same samples, into a work file of its own. For the campaign's own output it also writes the
 * shard's part of the round's statistics, so the round-end `roundStats` only adds the parts up.
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
    if (spec === input.spec) {
      yield* yieldToEventLoop
      const stats = new RoundStatsBuilder(input.round, input.spec.scorers.map((s) => s.name))
      stats.addSamples(scored.map(statsSampleOf))
      stats.addAccepted(chosen.map(statsRecordOf))
      yield* writeRows(deps.work.shardFile(input.campaignId, input.round, input.shard.index, STATS_PART_FILE), [stats.part()])
    }
    return { path, rows: chosen.length }
  })
