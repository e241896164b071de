import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import type { PromptRecord } from "../campaign/prompts.js"
import { inputInvalid, type WinnowError } from "../core/errors.js"
import type { FinishReason } from "../models/generate.js"
import { variantOf } from "../models/modelDir.js"
import { OpenAIBackends } from "../models/openaiBackends.js"
import { httpSeed } from "../models/openaiGenerator.js"
import { sampleSeed } from "../models/rng.js"
import type { ActivityDeps } from "./deps.js"
import { readRows, writeRows } from "./workArea.js"

/** One generated sample as stored in a shard's `samples.jsonl`. */
export interface SampleRow {
  readonly prompt_index: number
  readonly prompt_id: string
  readonly sample_index: number
  readonly text: string
  readonly finish: FinishReason
  readonly token_count: number
  readonly prompt_tokens: number
  readonly logprobs: number[]
  readonly entropies: number[]
}

/** Reads the prompts of one shard from the campaign's prompt snapshot. */
export const readShardPrompts = (deps: ActivityDeps, input: ShardInput): Effect.Effect<PromptRecord[], WinnowError> =>
  readRows<PromptRecord>(deps.work.promptsPath(input.promptsRef)).pipe(
    Effect.map((rows) => rows.slice(input.shard.start, input.shard.end))
  )

/** The conversation the generator sees: the spec's system prompt (if any) and the prompt's turns. */
export const conversationOf = (input: ShardInput, prompt: PromptRecord): PromptRecord["messages"] => {
  const system = input.spec.generator.system_prompt
  return system !== undefined && prompt.messages[0]?.role !== "system"
    ? [{ role: "system", content: system }, ...prompt.messages]
    : prompt.messages
}

/**
 * Samples N responses for every prompt of a shard, each draw seeded from (campaign seed, round,
 * prompt id, sample index), on the local model or on the OpenAI-compatible server the spec's
 * `generator.backend` names, and writes them to the work area. HTTP samples carry logprobs when
 * the server returns them and no entropies.
 */
export const generate = (deps: ActivityDeps) => {
  const servers = new OpenAIBackends(deps.logger)
  return (input: ShardInput): Effect.Effect<WorkRef, WinnowError> =>
    Effect.gen(function* () {
      const { generator } = input.spec
      const prompts = yield* readShardPrompts(deps, input)
      const seedsOf = (prompt: PromptRecord) =>
        Array.from({ length: generator.n }, (_, sampleIndex) =>
          sampleSeed({ seed: generator.seed, round: input.round, promptId: prompt.id, sampleIndex }))
      const params = {
        temperature: generator.temperature,
        top_k: generator.top_k,
        top_p: generator.top_p,
        min_p: generator.min_p,
        repetition_penalty: generator.repetition_penalty,
        max_new_tokens: generator.max_new_tokens,
        ...(generator.stop ? { stop: generator.stop } : {})
      }
      const { backend, model } = generator
      if (backend.type === "local" && model === undefined) {
        return yield* Effect.fail(inputInvalid("spec", "generator.model", undefined, "a value (this field is required)"))
      }
      const samples = backend.type === "openai"
        ? yield* servers.get(backend).pipe(Effect.flatMap((server) =>
            server.generate(prompts.map((prompt) => ({ messages: conversationOf(input, prompt), seeds: seedsOf(prompt).map(httpSeed) })), params)))
        : yield* deps.pool.generate({
            model: model!,
            ...variantOf(generator),
            prompts: prompts.map((prompt) => ({ messages: conversationOf(input, prompt), seeds: seedsOf(prompt) })),
            params
          })
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
      const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "samples")
      yield* writeRows(path, rows)
      deps.logger.info({ campaignId: input.campaignId, round: input.round, shard: input.shard.index, samples: rows.length, backend: backend.type }, "generated")
      return { path, rows: rows.length }
    })
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6
