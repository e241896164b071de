import { existsSync } from "node:fs"
import { Effect } from "effect"
import type { EvalStatsInput } from "../campaign/loopContracts.js"
import { type EvalStats, evalStatsOf } from "../campaign/evaluation.js"
import type { ScoredRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { readRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Reads the scored work files of a generator's evaluation shards and computes pass@1, pass@k and
 * the mean scores over the held-out prompts (`campaign/evaluation.ts`). Read-only.
 */
export const evalStats = (deps: ActivityDeps) => (input: EvalStatsInput): Effect.Effect<EvalStats, WinnowError> =>
  Effect.gen(function* () {
    const rows: ScoredRow[] = []
    for (const shard of input.shards) {
      const path = deps.work.shardFile(input.campaignId, input.round, shard, "scored", "eval")
      if (existsSync(path)) rows.push(...(yield* readRows<ScoredRow>(path)))
    }
    const verifiers = input.spec.eval?.verifiers ?? input.spec.scorers.filter((s) => s.type === "verifier").map((s) => s.name)
    const stats = evalStatsOf(input.round, input.generator.model_hash, input.spec.eval?.n ?? 1, rows, verifiers, input.spec.scorers.map((s) => s.name))
    deps.logger.info({ campaignId: input.campaignId, round: input.round, pass_at_1: stats.pass_at_1, model: input.generator.model_hash.slice(0, 12) }, "evaluated generator")
    return stats
  })
