import { Effect } from "effect"
import type { ShardInput, WorkRef } from "../campaign/contracts.js"
import { combineScores } from "../campaign/combine.js"
import type { PromptRecord } from "../campaign/prompts.js"
import type { WinnowError } from "../core/errors.js"
import type { ScoreInput } from "../scorers/contract.js"
import { buildScorers, weightingOf } from "../scorers/registry.js"
import type { ActivityDeps } from "./deps.js"
import { conversationOf, readShardPrompts, type SampleRow } from "./generate.js"
import { readRows, writeRows } from "./workArea.js"

/**
 * A sample with its raw per-scorer values, the combined ranking score, and whether it passed
 * every hard filter, as in `scored.jsonl`. A value that is not a finite number is stored as null.
 */
export interface ScoredRow extends Omit<SampleRow, "logprobs" | "entropies"> {
  readonly scores: Record<string, number | null>
  readonly score: number
  readonly passed: boolean
  /** Scorers whose filter failed, or whose value could not be ranked. */
  readonly failed?: string[]
  /** Scorers that had to truncate this sample's input. */
  readonly truncated?: string[]
  readonly logprob_mean: number
}

/** What scorers see of a shard's samples (the conversation, the response, recorded statistics). */
export const scoreInputs = (input: ShardInput, samples: readonly SampleRow[], prompts: readonly PromptRecord[]): ScoreInput[] => {
  const byIndex = new Map(prompts.map((p, i) => [input.shard.start + i, p]))
  return samples.map((s) => {
    const prompt = byIndex.get(s.prompt_index)!
    const messages = conversationOf(input, prompt)
    return {
      prompt: [...messages].reverse().find((m) => m.role === "user")?.content ?? "",
      messages,
      response: s.text,
      group: s.prompt_index,
      tokenCount: s.token_count,
      logprobs: s.logprobs,
      entropies: s.entropies,
      ...(prompt.reference !== undefined ? { reference: prompt.reference } : {})
    }
  })
}

/**
 * Runs every scorer of the spec over a shard's samples, then normalises, weights and filters
 * them per prompt group (`campaign/combine.ts`), and writes the scored rows.
 */
export const score = (deps: ActivityDeps) => (input: ShardInput & { samples: WorkRef }): Effect.Effect<WorkRef, WinnowError> =>
  Effect.gen(function* () {
    const samples = yield* readRows<SampleRow>(input.samples.path)
    const prompts = yield* readShardPrompts(deps, input)
    const batch = scoreInputs(input, samples, prompts)
    const scorers = buildScorers(input.spec.scorers, deps.pool)
    const columns = yield* Effect.forEach(scorers, (scorer) => scorer.score(batch))
    const raw = samples.map((s, i) => ({ group: s.prompt_index, scores: Object.fromEntries(scorers.map((scorer, j) => [scorer.name, columns[j]!.values[i]!])) }))
    const combined = combineScores(raw, weightingOf(input.spec.scorers))
    const rows: ScoredRow[] = samples.map(({ logprobs, entropies: _e, ...sample }, i) => {
      const truncated = scorers.filter((_, j) => columns[j]!.truncated?.[i] === true).map((s) => s.name)
      const { failed } = combined[i]!
      return {
        ...sample,
        scores: Object.fromEntries(Object.entries(raw[i]!.scores).map(([name, v]) => [name, Number.isFinite(v) ? v : null])),
        score: combined[i]!.score,
        passed: combined[i]!.passed,
        ...(failed.length > 0 ? { failed: [...failed] } : {}),
        ...(truncated.length > 0 ? { truncated } : {}),
        logprob_mean: logprobs.length ? logprobs.reduce((a, b) => a + b, 0) / logprobs.length : 0
      }
    })
    const truncatedTotal = rows.filter((r) => r.truncated).length
    if (truncatedTotal > 0) deps.logger.warn({ campaignId: input.campaignId, round: input.round, shard: input.shard.index, truncated: truncatedTotal }, "scorers truncated inputs (as declared)")
    const path = deps.work.shardFile(input.campaignId, input.round, input.shard.index, "scored")
    yield* writeRows(path, rows)
    return { path, rows: rows.length }
  })
