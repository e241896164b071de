import { existsSync } from "node:fs"
import { Effect } from "effect"
import type { RoundStats, RoundStatsInput } from "../campaign/contracts.js"
import { roundStats as computeRoundStats, type StatsRecord, type StatsSample, statsRecordOf, statsSampleOf } from "../campaign/roundStats.js"
import type { ScoredRow, SelectedRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { readRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Reads the scored and selected work files of the shards that ran in a round and computes the
 * round's statistics (`campaign/roundStats.ts`). Read-only, so retries are harmless; the workflow
 * carries the small result in its progress query.
 */
export const roundStats = (deps: ActivityDeps) => (input: RoundStatsInput): Effect.Effect<RoundStats, WinnowError> =>
  Effect.gen(function* () {
    const samples: StatsSample[] = []
    const accepted: StatsRecord[] = []
    for (const shard of input.shards) {
      const scoredPath = deps.work.shardFile(input.campaignId, input.round, shard, "scored")
      const selectedPath = deps.work.shardFile(input.campaignId, input.round, shard, "selected")
      if (!existsSync(scoredPath)) continue
      for (const row of yield* readRows<ScoredRow>(scoredPath)) samples.push(statsSampleOf(row))
      if (!existsSync(selectedPath)) continue
      for (const row of yield* readRows<SelectedRow>(selectedPath)) accepted.push(statsRecordOf(row))
    }
    return computeRoundStats(input.round, input.spec.scorers.map((s) => s.name), samples, accepted)
  })
