import { Effect } from "effect"
import type { PlanRoundInput, RoundPlanResult } from "../campaign/loopContracts.js"
import { hintedPrompt } from "../campaign/curriculum/hint.js"
import { type CurriculumState, emptyCurriculum } from "../campaign/curriculum/passRates.js"
import { planNextRound } from "../campaign/curriculum/policy.js"
import { planShards, type PromptRecord, promptSetOf } from "../campaign/prompts.js"
import { type WinnowError } from "../core/errors.js"
import { readPromptSet, readState, writePromptPages } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Decides what a round samples from the campaign's prompts and the curriculum so far: drops
 * capped and solved prompts, adds a hinted copy of each unsolved one (STaR), and writes the
 * round's prompt set as pages. Returns the set, its shards, the round's score threshold and the
 * counts of what was left out. Deterministic, so a retry writes the same files.
 */
export const planRound = (deps: ActivityDeps) => (input: PlanRoundInput): Effect.Effect<RoundPlanResult, WinnowError> =>
  Effect.gen(function* () {
    const all = yield* readPromptSet<PromptRecord>(deps.work, input.prompts)
    const state = input.curriculum === undefined
      ? emptyCurriculum()
      : yield* readState<CurriculumState>(deps.work.stateFile(input.campaignId, "curriculum", input.curriculum))
    const plan = planNextRound(state, all, input.spec.curriculum ?? {}, input.round)
    const chosen = new Set(plan.sample)
    const hinted = new Set(plan.hinted)
    const rows: PromptRecord[] = all.flatMap((prompt) => {
      if (!chosen.has(prompt.id)) return []
      if (!hinted.has(prompt.id) || prompt.reference === undefined) return [prompt]
      const copy = hintedPrompt({ id: prompt.id, messages: prompt.messages, reference: prompt.reference })
      return [prompt, { id: copy.id, messages: copy.messages, reference: copy.reference, hint: { of: prompt.id, messages: prompt.messages }, ...(prompt.fields ? { fields: prompt.fields } : {}) }]
    })
    const pageSize = input.spec.sharding.prompts_per_shard
    const prompts = promptSetOf(rows, pageSize)
    if (rows.length > 0) yield* writePromptPages(deps.work, prompts, rows)
    deps.logger.info({ campaignId: input.campaignId, round: input.round, prompts: rows.length, hinted: hinted.size, dropped: plan.dropped }, "planned round")
    return {
      prompts,
      shards: planShards(rows.length, pageSize),
      ...(plan.threshold !== undefined ? { threshold: plan.threshold } : {}),
      ...(plan.difficulty !== undefined ? { difficulty: plan.difficulty } : {}),
      dropped: plan.dropped,
      hinted: hinted.size
    }
  })
