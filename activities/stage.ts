import { Effect } from "effect"
import { shardPrompts, type ShardInput, type ShardResult, type WorkRef } from "../campaign/contracts.js"
import { type PromptRecord, recordConversationOf } from "../campaign/prompts.js"
import { leaksHint } from "../campaign/curriculum/hint.js"
import { finiteScores, isPair, keptSample, type SelectedRow } from "../campaign/rows.js"
import type { WinnowError } from "../core/errors.js"
import { type DpoRecord, makeRecord, type SftRecord } from "../datasets/record.js"
import { readPromptSlice, readRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Where a record came from, in its `meta`: the campaign, the generator that sampled it (its
 * weights hash), the prompt line's own fields (`prompt`); a hinted copy's records say
 * `rationalized` (found with the reference as a hint).
 */
const provenanceOf = (input: ShardInput, prompt: PromptRecord): Record<string, unknown> => ({
  campaign: input.campaignId,
  generator: input.generatorHash ?? null,
  ...(input.settingsRevision !== undefined ? { settings_revision: input.settingsRevision } : {}),
  ...(prompt.hint ? { rationalized: true } : {}),
  ...(prompt.fields ? { prompt: prompt.fields } : {})
})

/** The record a selected row becomes: SFT from a kept sample, DPO from a pair (score = the chosen one's). */
const recordOf = (row: SelectedRow, prompt: PromptRecord, input: ShardInput): SftRecord | DpoRecord => {
  const messages = recordConversationOf(input.spec.generator.system_prompt, prompt).map((m) => ({ role: m.role, content: m.content }))
  const reference = prompt.reference !== undefined ? { reference: prompt.reference } : {}
  const provenance = provenanceOf(input, prompt)
  if (isPair(row)) {
    return makeRecord({
      kind: "dpo" as const,
      prompt_id: prompt.hint?.of ?? row.prompt_id,
      messages,
      chosen: row.chosen.text,
      rejected: row.rejected.text,
      score: row.chosen.score,
      scores: finiteScores(row.chosen.scores),
      score_chosen: row.chosen.score,
      score_rejected: row.rejected.score,
      round: input.round,
      ...reference,
      meta: {
        margin: row.margin,
        chosen_sample: row.chosen.sample_index,
        rejected_sample: row.rejected.sample_index,
        rejected_scores: row.rejected.scores,
        rejected_passed: row.rejected.passed,
        ...(row.rejected.failed ? { rejected_failed: row.rejected.failed } : {}),
        ...provenance
      }
    })
  }
  return makeRecord({
    kind: "sft" as const,
    prompt_id: prompt.hint?.of ?? row.prompt_id,
    messages,
    response: row.text,
    score: row.score,
    scores: finiteScores(row.scores),
    round: input.round,
    sample_index: row.sample_index,
    ...reference,
    meta: { finish: row.finish, tokens: row.token_count, logprob_mean: row.logprob_mean, ...provenance }
  })
}

/**
 * Turns a shard's selected rows into records and stages them as one segment for the round's
 * commit (of the output `output` names). A hinted copy's response that mentions the hint is left out: it cannot stand beside the
 * prompt as written.
 */
export const stage = (deps: ActivityDeps) => (input: ShardInput & { selected: WorkRef }): Effect.Effect<ShardResult["segment"], WinnowError> =>
  Effect.gen(function* () {
    const selected = yield* readRows<SelectedRow>(input.selected.path)
    const prompts = yield* readPromptSlice<PromptRecord>(deps.work, shardPrompts(input), input.shard)
    const records = selected.flatMap((row) => {
      const prompt = prompts[row.prompt_index - input.shard.start]!
      return prompt.hint && leaksHint(keptSample(row).text) ? [] : [recordOf(row, prompt, input)]
    })
    const output = input.output !== undefined && input.output > 0 ? { output: input.output } : {}
    const ref = yield* deps.store.stageSegment({ campaignId: input.campaignId, round: input.round, shard: input.shard.index, records, ...output })
    return { hash: ref.hash, records: ref.records }
  })
