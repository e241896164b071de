import { Effect } from "effect"
import { shardPrompts, type ShardInput, type WorkRef } from "../campaign/contracts.js"
import { conversationOf, type PromptRecord } from "../campaign/prompts.js"
import type { SampleRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { promptSeeds } from "../core/seeds.js"
import { DEFAULTS } from "../core/defaults.js"
import { readPromptSlice, readRowsIfAny, removeFiles, writeRows } from "../datasets/workArea.js"
import { type ActivityDeps, shardLogger } from "./deps.js"
import { sampleFromGenerator } from "./sampling.js"

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/**
 * Samples N responses for every prompt of a shard, each draw seeded from (campaign seed, round,
 * prompt id, sample index), on the local model or on the OpenAI-compatible server the spec's
 * `generator.backend` names, and writes them to the work area. HTTP samples carry logprobs when
 * the server returns them and no entropies. Every evaluation draws with round 0's seeds, so
 * successive generators are compared on the same random numbers. Every `sharding.checkpoint_prompts`
 * prompts the samples so far are written as a checkpoint; an attempt after a dead one keeps those
 * and samples only the rest (the same draws: seeds depend on the prompt, not on the attempt). The
 * echo backend, which costs nothing to run again, samples the shard at once without checkpoints.
 */
export const generate = (deps: ActivityDeps) => (input: ShardInput): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const { generator } = input.spec
    const prompts = yield* readPromptSlice<PromptRecord>(deps.work, shardPrompts(input), input.shard)
    const seedRound = input.purpose === "eval" ? 0 : input.round
    const checkpointed = generator.backend.type !== "echo"
    const every = checkpointed ? input.spec.sharding.checkpoint_prompts ?? DEFAULTS.sharding.checkpoint_prompts : Math.max(1, prompts.length)
    const checkpoint = (k: number) => deps.work.shardFile(input.campaignId, input.round, input.shard.index, `samples.c${every}-${k}`, input.purpose)
    const rows: SampleRow[] = []
    const checkpoints: string[] = []
    let resumed = 0
    for (let from = 0, k = 0; from < prompts.length; from += every, k++) {
      const path = checkpointed ? checkpoint(k) : undefined
      const done = path === undefined ? undefined : yield* readRowsIfAny<SampleRow>(path)
      if (path !== undefined) checkpoints.push(path)
      if (done) {
        for (const row of done) rows.push(row)
        resumed += done.length
        continue
      }
      const chunk = prompts.slice(from, from + every)
      const samples = yield* sampleFromGenerator(deps, generator, chunk.map((prompt) => ({
        messages: conversationOf(generator.system_prompt, prompt),
        seeds: promptSeeds(generator.seed, seedRound, prompt.id, generator.n)
      })))
      const sampled = samples.map((s): SampleRow => ({
        prompt_index: input.shard.start + from + s.prompt,
        prompt_id: chunk[s.prompt]!.id,
        sample_index: s.sample,
        text: s.text,
        finish: s.finish,
        token_count: s.tokenCount,
        prompt_tokens: s.promptTokens,
        logprobs: s.logprobs.map(round6),
        entropies: s.entropies.map(round6)
      }))
      if (path !== undefined) yield* writeRows(path, sampled)
      for (const row of sampled) rows.push(row)
    }
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "samples", input.purpose)
    yield* writeRows(path, rows)
    yield* removeFiles(checkpoints)
    shardLogger(deps, input).info({ samples: rows.length, backend: generator.backend.type, ...(resumed > 0 ? { resumed } : {}) }, resumed > 0 ? "generated, resuming a previous attempt's checkpoints" : "generated")
    const promptTokens = new Map(rows.map((r) => [r.prompt_index, r.prompt_tokens]))
    const tokens = { prompt: [...promptTokens.values()].reduce((a, b) => a + b, 0), completion: rows.reduce((a, r) => a + r.token_count, 0) }
    return { path, rows: rows.length, tokens }
  })
