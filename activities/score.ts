import { Effect } from "effect"
import { combineScores } from "../campaign/combine.js"
import { shardPrompts, type ShardInput, type WorkRef } from "../campaign/contracts.js"
import { conversationOf, lastUserTurn, type PromptRecord } from "../campaign/prompts.js"
import { type SampleRow, scoredRows } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { readPromptSlice, readRows, writeRows } from "../datasets/workArea.js"
import type { ScoreInput } from "../scorers/contract.js"
import { buildScorers, weightingOf } from "../scorers/registry.js"
import { type ActivityDeps, shardLogger } from "./deps.js"

/** What scorers see of a shard's samples: the conversation, the response, recorded statistics. */
const scoreInputs = (input: ShardInput, samples: readonly SampleRow[], prompts: readonly PromptRecord[]): ScoreInput[] =>
  samples.map((s) => {
    const prompt = prompts[s.prompt_index - input.shard.start]!
    const messages = conversationOf(input.spec.generator.system_prompt, prompt)
    return {
      prompt: lastUserTurn(messages),
      messages,
      response: s.text,
      group: s.prompt_index,
      tokenCount: s.token_count,
      logprobs: s.logprobs,
      entropies: s.entropies,
      ...(prompt.reference !== undefined ? { reference: prompt.reference } : {})
    }
  })

/**
 * Runs every scorer of the spec over a shard's samples, then normalises, weights and filters
 * them per prompt group (`campaign/combine.ts`), and writes the scored rows.
 */
export const score = (deps: ActivityDeps) => (input: ShardInput & { samples: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const samples = yield* readRows<SampleRow>(input.samples.path)
    const prompts = yield* readPromptSlice<PromptRecord>(deps.work, shardPrompts(input), input.shard)
    const batch = scoreInputs(input, samples, prompts)
    const scorers = buildScorers(input.spec.scorers, deps.pool)
    const columns = yield* Effect.forEach(scorers, (scorer) => scorer.score(batch).pipe(Effect.map((column) => ({ name: scorer.name, ...column }))))
    const raw = samples.map((s, i) => ({ group: s.prompt_index, scores: Object.fromEntries(columns.map((c) => [c.name, c.values[i]!])) }))
    const rows = scoredRows(samples, columns, combineScores(raw, weightingOf(input.spec.scorers)))
    const truncated = rows.filter((r) => r.truncated).length
    if (truncated > 0) shardLogger(deps, input).warn({ truncated }, "scorers truncated inputs (as declared)")
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "scored", input.purpose)
    yield* writeRows(path, rows)
    return { path, rows: rows.length }
  })
