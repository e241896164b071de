import { Effect } from "effect"
import { shardPrompts, type ShardInput, type WorkRef } from "../campaign/contracts.js"
import { conversationOf, type PromptRecord } from "../campaign/prompts.js"
import type { SampleRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { promptSeeds } from "../core/seeds.js"
import { readPromptSlice, writeRows } from "../datasets/workArea.js"
import { type ActivityDeps, shardLogger } from "./deps.js"
import { sampleFromGenerator } from "./sampling.js"

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/**
 * Samples N responses for every prompt of a shard, each draw seeded from (campaign seed, round,
 * prompt id, sample index), on the local model or on the OpenAI-compatible server the spec's
 * `generator.backend` names, and writes them to the work area. HTTP samples carry logprobs when
 * the server returns them and no entropies. Every evaluation draws with round 0's seeds, so
 * successive generators are compared on the same random numbers.
 */
export const generate = (deps: ActivityDeps) => (input: ShardInput): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const { generator } = input.spec
    const prompts = yield* readPromptSlice<PromptRecord>(deps.work, shardPrompts(input), input.shard)
    const seedRound = input.purpose === "eval" ? 0 : input.round
    const samples = yield* sampleFromGenerator(deps, generator, prompts.map((prompt) => ({
      messages: conversationOf(generator.system_prompt, prompt),
      seeds: promptSeeds(generator.seed, seedRound, prompt.id, generator.n)
    })))
    const rows: SampleRow[] = samples.map((s) => ({
      prompt_index: input.shard.start + s.prompt,
      prompt_id: prompts[s.prompt]!.id,
      sample_index: s.sample,
      text: s.text,
      finish: s.finish,
      token_count: s.tokenCount,
      prompt_tokens: s.promptTokens,
      logprobs: s.logprobs.map(round6),
      entropies: s.entropies.map(round6)
    }))
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "samples", input.purpose)
    yield* writeRows(path, rows)
    shardLogger(deps, input).info({ samples: rows.length, backend: generator.backend.type }, "generated")
    const promptTokens = new Map(samples.map((s) => [s.prompt, s.promptTokens]))
    const tokens = { prompt: [...promptTokens.values()].reduce((a, b) => a + b, 0), completion: samples.reduce((a, s) => a + s.tokenCount, 0) }
    return { path, rows: rows.length, tokens }
  })
