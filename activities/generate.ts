import { Effect } from "effect"
import { shardPrompts, type ShardInput, type WorkRef } from "../campaign/contracts.js"
import { conversationOf, type PromptRecord } from "../campaign/prompts.js"
import type { SampleRow } from "../campaign/rows.js"
import { inputInvalid, type WinnowError } from "../core/errors.js"
import { httpSeed, promptSeeds } from "../core/seeds.js"
import { readPromptSlice, writeRows } from "../datasets/workArea.js"
import { variantOf } from "../models/modelDir.js"
import { type ActivityDeps, shardLogger } from "./deps.js"

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
    const { backend, model } = generator
    if (backend.type === "local" && model === undefined) {
      return yield* Effect.fail(inputInvalid("spec", "generator.model", undefined, "a value (this field is required)"))
    }
    const prompts = yield* readPromptSlice<PromptRecord>(deps.work, shardPrompts(input), input.shard)
    const seedRound = input.purpose === "eval" ? 0 : input.round
    const requests = prompts.map((prompt) => ({
      messages: conversationOf(generator.system_prompt, prompt),
      seeds: promptSeeds(generator.seed, seedRound, prompt.id, generator.n)
    }))
    const params = {
      temperature: generator.temperature,
      top_k: generator.top_k,
      top_p: generator.top_p,
      min_p: generator.min_p,
      repetition_penalty: generator.repetition_penalty,
      max_new_tokens: generator.max_new_tokens,
      ...(generator.stop ? { stop: generator.stop } : {})
    }
    const samples = backend.type === "openai"
      ? yield* deps.backends.get(backend).pipe(Effect.flatMap((server) =>
          server.generate(requests.map((r) => ({ messages: r.messages, seeds: r.seeds.map(httpSeed) })), params)))
      : yield* deps.pool.generate({ model: model!, ...variantOf(generator), prompts: requests, params })
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
    shardLogger(deps, input).info({ samples: rows.length, backend: backend.type }, "generated")
    return { path, rows: rows.length }
  })
