import type { EvalStats } from "./evaluation.js"
import type { PromptSet, ShardPlan } from "./promptSets.js"
import type { CampaignSpec } from "./spec.js"

/**
 * The shapes the self-play loop's steps pass across Temporal: the generator a round samples
 * from, the state carried from round to round, and the inputs and results of the planning,
 * curriculum, prompt-stage, improve and evaluation activities.
 */

/** The generator a round samples from: the spec's model, or the one the last improve step trained. */
export interface GeneratorRef {
  readonly path: string
  readonly model_hash: string
  /** The stored model's id, for a trained generator. */
  readonly model_id?: string
}

/** What the self-play loop carries from round to round (through continue-as-new). */
export interface LoopState {
  readonly generator: GeneratorRef
  /** Content hash of the curriculum state file (per-prompt pass rates), once a round has updated it. */
  readonly curriculum?: string
  /** The campaign's prompt set grown by the prompt stage (the prepared set until it has run). */
  readonly prompts?: PromptSet
  /** One evaluation per generator the campaign has had: round 0 is the starting one. */
  readonly evals: readonly EvalStats[]
  /** The models the improve step trained, by the round whose records trained them. */
  readonly models: ReadonlyArray<{ readonly round: number; readonly model_id: string; readonly model_hash: string; readonly reused: boolean }>
}

/** What the next round samples, decided by the curriculum (`planRound`). */
export interface RoundPlanResult {
  readonly prompts: PromptSet
  readonly shards: readonly ShardPlan[]
  readonly threshold?: number
  readonly difficulty?: number
  readonly dropped: { readonly capped: number; readonly solved: number; readonly unscheduled?: number }
  readonly hinted: number
}

/** Input of `planRound`. */
export interface PlanRoundInput {
  readonly campaignId: string
  readonly round: number
  readonly spec: CampaignSpec
  readonly prompts: PromptSet
  readonly curriculum?: string
}

/** Input of `updateCurriculum`: the shards of a round whose scored samples update the pass rates. */
export interface UpdateCurriculumInput {
  readonly campaignId: string
  readonly round: number
  readonly shards: readonly number[]
  readonly spec: CampaignSpec
  readonly curriculum?: string
}

/** Input of `improve`: the committed version to train on, and the generator it replaces. */
export interface ImproveInput {
  readonly campaignId: string
  readonly round: number
  readonly spec: CampaignSpec
  readonly dataset: string
  readonly version: string
  readonly base: GeneratorRef
  readonly previous: GeneratorRef
}

/** What `improve` hands back: the next round's generator, and whether it was found already trained. */
export interface ImproveResult {
  readonly generator: GeneratorRef
  readonly reused: boolean
  readonly records: number
  readonly metrics: Record<string, unknown>
}

/** Input of `writePrompts`: the campaign's prompt set so far, the held-out prompts, the round's generator. */
export interface WritePromptsInput {
  readonly campaignId: string
  readonly round: number
  readonly spec: CampaignSpec
  readonly prompts: PromptSet
  readonly evalPrompts?: PromptSet
  readonly generator: GeneratorRef
  readonly curriculum?: string
}

/** What the prompt stage wrote: the grown prompt set (committed as version `version` of the prompt dataset), and per operator what it kept. */
export interface WritePromptsResult {
  readonly prompts: PromptSet
  readonly shards: readonly ShardPlan[]
  readonly version: number
  readonly added: number
  /** Generations the stage asked for, and their tokens (for budgets). */
  readonly generated: number
  readonly tokens: { readonly prompt: number; readonly completion: number }
  /** Per operator: generations asked for (model-backed ones), candidate prompts parsed from them, prompts kept, why the rest went. */
  readonly operators: Readonly<Record<string, { readonly requests?: number; readonly candidates: number; readonly kept: number; readonly difficulty?: number; readonly dropped?: Readonly<Record<string, number>> }>>
}

/** Input of `evalStats`: the eval shards that ran for one generator. */
export interface EvalStatsInput {
  readonly campaignId: string
  readonly round: number
  readonly shards: readonly number[]
  readonly spec: CampaignSpec
  readonly generator: GeneratorRef
}
