import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import type { WinnowError } from "../core/errors.js"
import type { ScoreInput } from "../scorers/contract.js"
import { buildScorers, combineScores } from "../scorers/registry.js"
import type { ActivityDeps } from "./deps.js"
import { conversationOf, readShardPrompts, type SampleRow } from "./generate.js"
import { readRows, writeRows } from "./workArea.js"

/** A sample with its per-scorer scores and the weighted combination, as in `scored.jsonl`. */
export interface ScoredRow extends Omit<SampleRow, "logprobs" | "entropies"> {
  readonly scores: Record<string, number>
  readonly score: number
  readonly logprob_mean: number
}

/** Runs every scorer of the spec over a shard's samples and writes the scored rows. */
export const score = (deps: ActivityDeps) => (input: ShardInput & { samples: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const samples = yield* readRows<SampleRow>(input.samples.path)
    const prompts = yield* readShardPrompts(deps, input)
    const byIndex = new Map(prompts.map((p, i) => [input.shard.start + i, p]))
    const batch: ScoreInput[] = samples.map((s) => {
      const prompt = byIndex.get(s.prompt_index)!
      const messages = conversationOf(input, prompt)
      return {
        prompt: [...messages].reverse().find((m) => m.role === "user")?.content ?? "",
        messages,
        response: s.text,
        logprobs: s.logprobs,
        entropies: s.entropies,
        ...(prompt.reference !== undefined ? { reference: prompt.reference } : {})
      }
    })
    const scorers = buildScorers(input.spec.scorers, deps.pool)
    const columns = yield* Effect.forEach(scorers, (scorer) => scorer.score(batch))
    const rows: ScoredRow[] = samples.map(({ logprobs, entropies: _e, ...sample }, i) => {
      const values = columns.map((column) => column[i]!)
      return {
        ...sample,
        scores: Object.fromEntries(scorers.map((s, j) => [s.name, values[j]!])),
        score: combineScores(scorers, values),
        logprob_mean: logprobs.length ? logprobs.reduce((a, b) => a + b, 0) / logprobs.length : 0
      }
    })
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "scored")
    yield* writeRows(path, rows)
    return { path, rows: rows.length }
  })
