import type { PreparedCampaign } from "./contracts.js"
import type { GeneratorRef, LoopState } from "./loopContracts.js"
import type { EvalStats } from "./evaluation.js"
import type { CampaignSpec } from "./spec.js"

/**
 * The self-play loop's pure steps, for the campaign workflow: the state a campaign starts with,
 * the spec a round actually runs (its generator, its threshold), the spec an evaluation runs.
 */

/** The loop's state before round 1: the spec's generator, no evaluation, no trained model. */
export const startLoop = (prepared: PreparedCampaign): LoopState => ({
  generator: { path: prepared.lineage.generator.model, model_hash: prepared.lineage.generator.model_hash },
  evals: [],
  models: []
})

/** The model the improve step trains from when `from: base`: `improve.base`, else the spec's generator. */
export const trainBaseOf = (prepared: PreparedCampaign): GeneratorRef =>
  prepared.trainBase ?? { path: prepared.lineage.generator.model, model_hash: prepared.lineage.generator.model_hash }

/**
 * The spec a round runs: the spec with the loop's current generator (a trained one after the
 * first improve step) and, with a threshold schedule, the round's `selection.min_score`.
 */
export const specForRound = (spec: CampaignSpec, generator: GeneratorRef | undefined, threshold?: number): CampaignSpec => ({
  ...spec,
  generator: generator === undefined || spec.generator.backend.type !== "local" ? spec.generator : { ...spec.generator, model: generator.path },
  selection: threshold === undefined ? spec.selection : { ...spec.selection, min_score: threshold }
})

/**
 * The spec an evaluation runs: the generator under evaluation, `eval.n` samples per prompt, with
 * the eval's temperature and token limit where it sets them.
 */
export const specForEval = (spec: CampaignSpec, generator: GeneratorRef): CampaignSpec => {
  const evaluation = spec.eval!
  return {
    ...specForRound(spec, generator),
    generator: {
      ...specForRound(spec, generator).generator,
      n: evaluation.n,
      ...(evaluation.temperature !== undefined ? { temperature: evaluation.temperature } : {}),
      ...(evaluation.max_new_tokens !== undefined ? { max_new_tokens: evaluation.max_new_tokens } : {})
    }
  }
}

/** An earlier evaluation of the same weights (evaluations are seeded the same way, so it would repeat itself). */
export const knownEval = (loop: LoopState, generator: GeneratorRef): EvalStats | undefined =>
  loop.evals.find((e) => e.model_hash === generator.model_hash)

/**
 * The most the prompt stage can generate in a round, as (requests, the spec they run under): one
 * sample per request of every model-backed operator, up to the stage's token limit. For budgets.
 */
export const promptStageLoad = (spec: CampaignSpec): { readonly prompts: number; readonly spec: CampaignSpec } => {
  const stage = spec.prompt_stage
  const prompts = (stage?.operators ?? []).reduce((sum, o) => sum + (o.type === "arithmetic" ? 0 : o.count ?? 8), 0)
  return { prompts, spec: { ...spec, generator: { ...spec.generator, n: 1, max_new_tokens: stage?.max_new_tokens ?? spec.generator.max_new_tokens } } }
}
