import { existsSync } from "node:fs"
import { Effect } from "effect"
import type { RoundStats, RoundStatsInput } from "../campaign/contracts.js"
import { RoundStatsBuilder, type RoundStatsPart, statsRecordOf, statsSampleOf } from "../campaign/roundStats.js"
import { STATS_PART_FILE } from "../campaign/roundStatsPart.js"
import type { ScoredRow, SelectedRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { yieldToEventLoop } from "../core/eventLoop.js"
import { readRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Computes the round's statistics (`campaign/roundStats.ts`) from the shards that ran: adds up
 * the part each shard's select wrote, or, for a shard selected before parts existed, reads its
 * scored and selected work files. One shard at a time, giving the event loop a turn between
 * shards so heartbeats go out however large the round. Read-only, so retries are harmless; the
 * workflow carries the small result in its progress query.
 */
export const roundStats = (deps: ActivityDeps) => (input: RoundStatsInput): Effect.Effect<RoundStats, WinnowError> =>
  Effect.gen(function* () {
    const builder = new RoundStatsBuilder(input.round, input.spec.scorers.map((s) => s.name))
    for (const shard of input.shards) {
      const partPath = deps.work.shardFile(input.campaignId, input.round, shard, STATS_PART_FILE)
      const scoredPath = deps.work.shardFile(input.campaignId, input.round, shard, "scored")
      const selectedPath = deps.work.shardFile(input.campaignId, input.round, shard, "selected")
      if (existsSync(partPath)) {
        for (const part of yield* readRows<RoundStatsPart>(partPath)) builder.addPart(part)
        yield* yieldToEventLoop
        continue
      }
      if (!existsSync(scoredPath)) continue
      builder.addSamples((yield* readRows<ScoredRow>(scoredPath)).map(statsSampleOf))
      yield* yieldToEventLoop
      if (!existsSync(selectedPath)) continue
      builder.addAccepted((yield* readRows<SelectedRow>(selectedPath)).map(statsRecordOf))
      yield* yieldToEventLoop
    }
    return builder.result()
  })
