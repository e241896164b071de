import type { Spend } from "./budget.js"
import type { EvalStats } from "./evaluation.js"
import type { GeneratorRef, LoopState, WritePromptsResult } from "./loopContracts.js"
import type { CarriedControl, SettingsRevision } from "./liveSettings.js"
import type { PromptSet, ShardPlan } from "./promptSets.js"
import type { ReviewSummary, RoundReview } from "./review.js"
import type { ReviewState } from "./reviewPool.js"
import type { CampaignSpec } from "./spec.js"

/**
 * The shapes that cross Temporal: workflow inputs and results, activity inputs and results.
 * Only references and counts travel here; samples stay in the store (claim-check pattern).
 */

/** Where a campaign's data came from; goes into each version's manifest. */
export interface CampaignLineage {
  readonly generator: { readonly model: string; readonly model_hash: string; readonly sampling: Record<string, unknown> }
  readonly scorers: ReadonlyArray<{ readonly name: string; readonly version: string; readonly config_hash: string; readonly config: unknown }>
  readonly selection: Record<string, unknown>
  readonly prompts: { readonly ref: string; readonly count: number }
  readonly spec_hash: string
  /** `output.dedup` of the spec: how commits deduplicate (recorded, as applied, in each manifest). */
  readonly dedup?: CampaignSpec["output"]["dedup"]
}

/** What `prepare` hands the campaign workflow. */
export interface PreparedCampaign {
  readonly prompts: PromptSet
  readonly shards: readonly ShardPlan[]
  readonly lineage: CampaignLineage
  /** The held-out prompts (with `eval` in the spec), cut into shard-sized pages. */
  readonly evalPrompts?: PromptSet
  readonly evalShards?: readonly ShardPlan[]
  /** Training prompts left out because they overlap an eval prompt. */
  readonly decontaminated?: number
  /** `improve.base` when the spec names a base other than the generator. */
  readonly trainBase?: GeneratorRef
}

/** The prompt set of a prepared campaign, also for one prepared before prompt sets had pages. */
export const preparedPrompts = (prepared: PreparedCampaign | LegacyPreparedCampaign): PromptSet =>
  "prompts" in prepared ? prepared.prompts : { ref: prepared.promptsRef, count: prepared.promptCount, pageSize: 0 }

/** `PreparedCampaign` as campaigns prepared before prompt pages carry it through continue-as-new. */
export interface LegacyPreparedCampaign {
  readonly promptsRef: string
  readonly promptCount: number
  readonly shards: readonly ShardPlan[]
  readonly lineage: CampaignLineage
}

/** Input of the campaign workflow. `startRound`/`carried` are set by continue-as-new. */
export interface CampaignInput {
  readonly campaignId: string
  readonly spec: CampaignSpec
  readonly startRound?: number
  readonly prepared?: PreparedCampaign | LegacyPreparedCampaign
  readonly carried?: CampaignProgress
  /** The self-play loop's state, with `improve`, `eval` or `curriculum` in the spec. */
  readonly loop?: LoopState
  /** Live settings (pause, accepted `set` changes) carried from the previous run. */
  readonly control?: CarriedControl
}

/** Lifecycle states shown by `campaign status` and the WinnowStatus search attribute. */
export type CampaignStatus = "running" | "completed" | "failed" | "cancelled"

/** The campaign's live state, answered by the `progress` query. */
export interface CampaignProgress {
  readonly campaignId: string
  readonly dataset: string
  readonly status: CampaignStatus
  readonly round: number
  readonly rounds: number
  readonly shardsDone: number
  readonly shardsTotal: number
  readonly prompts: number
  readonly generated: number
  readonly accepted: number
  /** One entry per committed round: the version, its record count, and the records this round added after dedup. */
  readonly versions: ReadonlyArray<{ readonly round: number; readonly version: string; readonly records: number; readonly added?: number }>
  /** `selection.accept_until` when the spec sets it: the campaign stops once its rounds have added this many records (after dedup). */
  readonly acceptUntil?: number
  /** Statistics of the most recent rounds (at most `STATS_ROUNDS_KEPT`), oldest first. */
  readonly stats?: readonly RoundStats[]
  /** Held-out evaluations, one per generator (round 0: the starting one), with `eval`. */
  readonly evals?: readonly EvalStats[]
  /** What the loop is doing now, when it is not sampling: evaluating, training. */
  readonly phase?: "sampling" | "evaluating" | "training"
  /** What the prompt stage wrote in the latest round, with `prompt_stage`. */
  readonly promptStage?: { readonly round: number; readonly version: number; readonly added: number; readonly operators: WritePromptsResult["operators"] }
  /** Why the campaign stopped before its last round, when it did. */
  readonly stopReason?: string
  /** True while paused (`winnow campaign pause`). */
  readonly paused?: boolean
  /** Every accepted live change (`winnow campaign set`), oldest first. */
  readonly revisions?: ReadonlyArray<SettingsRevision>
  /** When the campaign's first run started (workflow time, ISO), for the wall-clock budget. */
  readonly startedAt?: string
  /** What the campaign has spent (samples, generated and prompt tokens, money), with or without a budget. */
  readonly spent?: Spend
  /** Which budget stopped the campaign launching work, when one did. */
  readonly budgetStop?: string
  /** With `outputs` in the spec: per entry, its dataset, the records its selection accepted and its committed versions. */
  readonly outputs?: ReadonlyArray<OutputProgress>
  /** With `review`: where the current round's review stands (open while the round waits for reviewers). */
  readonly review?: ReviewState
  /** With `review`: what each committed round's review found, oldest first. */
  readonly reviews?: readonly RoundReview[]
}

/** One of a campaign's `outputs` in its progress: the dataset, records accepted by its selection, one version per committed round. */
export interface OutputProgress {
  readonly dataset: string
  readonly accepted: number
  readonly versions: CampaignProgress["versions"]
}

/** How many rounds of statistics the progress query carries. */
export const STATS_ROUNDS_KEPT = 20

/** Distribution of one score over a set of samples or records. */
export interface ScoreSummary {
  readonly count: number
  readonly mean: number
  readonly min: number
  readonly p10: number
  readonly p50: number
  readonly p90: number
  readonly max: number
}

/** One score's statistics in a round: over all samples, over accepted records, and the best-of-N gain. */
export interface ScoreColumnStats {
  readonly all: ScoreSummary | null
  readonly accepted: ScoreSummary | null
  /** Mean over prompts of the best value minus the mean over all samples. */
  readonly best_of_n_gain: number | null
}

/** What a round recorded about its scores and selection (computed by the `roundStats` activity). */
export interface RoundStats {
  readonly round: number
  readonly samples: number
  readonly prompts: number
  readonly accepted: number
  /** Accepted records over generated samples. */
  readonly acceptance_rate: number
  /** Share of samples that passed every hard filter. */
  readonly filter_pass_rate: number
  /** The combined ranking score (best-of-N gain over samples that passed the filters). */
  readonly combined: ScoreColumnStats
  readonly scores: Readonly<Record<string, ScoreColumnStats>>
  /** Corpus distinct-1 and distinct-2 of the accepted responses (CJK characters / words). */
  readonly distinct_1: number
  readonly distinct_2: number
  /** Samples whose input a scorer truncated, by scorer name. */
  readonly truncated: Readonly<Record<string, number>>
  /** Samples that failed a scorer's filter (or could not be ranked by it), by scorer name. */
  readonly failed?: Readonly<Record<string, number>>
  /** Samples the generator cut at `max_new_tokens` (finish `length`); rounds recorded before it have none. */
  readonly length_stopped?: number
  /** Lengths of all samples and of the kept responses, in tokens and in units (CJK characters / words). */
  readonly lengths?: {
    readonly tokens: { readonly all: ScoreSummary | null; readonly accepted: ScoreSummary | null }
    readonly units: { readonly all: ScoreSummary | null; readonly accepted: ScoreSummary | null }
  }
  /** Language of all samples and of the kept responses (`detectLanguage`), as counts. */
  readonly languages?: { readonly all: LanguageMix; readonly accepted: LanguageMix }
  /** Histograms of all samples against kept records, for the combined score and each scorer. */
  readonly histograms?: { readonly combined: ScoreHistogram | null; readonly scores: Readonly<Record<string, ScoreHistogram | null>> }
  /** Correlation between every pair of scorers (and the combined score, `score`) over the round's samples. */
  readonly correlations?: readonly ScoreCorrelation[]
}

/** Counts of texts by language (`zh`, `ja`, `ko`, `latin`, `none`). */
export type LanguageMix = Readonly<Record<string, number>>

/** One score's histogram in a round: equal-width bins over [lo, hi], counted over all samples and over kept records. */
export interface ScoreHistogram {
  readonly lo: number
  readonly hi: number
  readonly all: readonly number[]
  readonly kept: readonly number[]
}

/** How two scores agree over a round's samples: Pearson and Spearman correlation over the `n` samples where both are finite. */
export interface ScoreCorrelation {
  readonly a: string
  readonly b: string
  readonly n: number
  readonly pearson: number | null
  readonly spearman: number | null
}

/** Input of the `cleanWork` activity: the committed round (or evaluation) whose work files go. */
export interface CleanWorkInput {
  readonly campaignId: string
  readonly round: number
  readonly purpose?: "eval"
}

/** Input of the `roundStats` activity: which shards of the round ran. */
export interface RoundStatsInput {
  readonly campaignId: string
  readonly round: number
  readonly shards: readonly number[]
  readonly spec: CampaignSpec
}

/**
 * How a finished campaign fared: `ok`; `empty`, it added no record; `short`, it added fewer than
 * `selection.accept_until` asked for; `budget`, a budget stopped it before its last round. The
 * CLI exits 3 unless `ok`.
 */
export type CampaignOutcome = "ok" | "empty" | "short" | "budget"

/** What a finished campaign returns. */
export interface CampaignResult {
  readonly campaignId: string
  readonly dataset: string
  readonly version: string | null
  readonly generated: number
  readonly accepted: number
  /** Records the campaign's rounds added to the dataset: accepted, less what commit-time dedup dropped. */
  readonly kept: number
  readonly rounds: number
  readonly outcome?: CampaignOutcome
  /** Why the outcome is not `ok`: which filter removed what, or what dedup dropped. */
  readonly reason?: string
  /** The held-out pass@1 curve (round 0 first), with `eval`. */
  readonly evals?: ReadonlyArray<{ readonly round: number; readonly pass_at_1: number }>
  /** The generator the campaign ended with (a trained one, with `improve`). */
  readonly generator?: GeneratorRef
  readonly stopReason?: string
  /** With `review`: what each round's review found (decisions, agreement with the discriminator). */
  readonly reviews?: readonly RoundReview[]
  /** With `outputs` in the spec: per entry, its dataset, last version, and records accepted and kept. */
  readonly outputs?: ReadonlyArray<{ readonly dataset: string; readonly version: string | null; readonly accepted: number; readonly kept: number }>
}

/** Input shared by the shard workflow and its activities. */
export interface ShardInput {
  readonly campaignId: string
  readonly round: number
  /** `eval`: a held-out evaluation shard (generate and score only, in work files of its own). */
  readonly purpose?: "eval"
  /** The weights hash of the generator that samples (named in every record's provenance). */
  readonly generatorHash?: string
  /** The live-settings revision the shard was launched under (`winnow campaign set`), when there was one. */
  readonly settingsRevision?: number
  readonly shard: ShardPlan
  /** The prompt set the shard's slice is cut from (absent in shards started before prompt pages). */
  readonly prompts?: PromptSet
  /** The whole-file prompt snapshot of shards started before prompt pages. */
  readonly promptsRef?: string
  readonly spec: CampaignSpec
  /** Under accept-until-K: the most records this shard may stage. */
  readonly acceptLimit?: number
  /** For select and stage: which output (0, absent: `output`; k ≥ 1: the spec's `outputs[k-1]`). */
  readonly output?: number
}

/** Reference to a work file in the store with the number of rows it holds. */
export interface WorkRef {
  readonly path: string
  readonly rows: number
  /** For generated samples: prompt tokens (once per prompt) and generated tokens, for budgets. */
  readonly tokens?: { readonly prompt: number; readonly completion: number }
}

/** What one shard produced. */
export interface ShardResult {
  readonly shard: number
  readonly generated: number
  readonly accepted: number
  /** Prompt and generated tokens of its samples (shards run before budgets existed have none). */
  readonly tokens?: { readonly prompt: number; readonly completion: number }
  readonly segment: { readonly hash: string; readonly records: number } | null
  /** With `outputs` in the spec: per entry, what its selection accepted and staged from the same samples. */
  readonly outputs?: ReadonlyArray<{ readonly accepted: number; readonly segment: { readonly hash: string; readonly records: number } | null }>
}

/** Input of the commit activity at the end of a round. */
export interface CommitInput {
  readonly campaignId: string
  readonly workflowId: string
  readonly runId: string
  readonly round: number
  readonly dataset: string
  readonly lineage: CampaignLineage
  /** The generator that sampled this round, when the loop changed it from the spec's. */
  readonly generator?: GeneratorRef
  /** That generator's held-out evaluation, with `eval`. */
  readonly eval?: EvalStats
  /** Which output's staging to commit (absent: `output`; k ≥ 1: the spec's `outputs[k-1]`, whose selection and dedup `lineage` carries). */
  readonly output?: number
  /** What the round's review found, with `review` (recorded in the version's lineage). */
  readonly review?: ReviewSummary
}

/** A committed version as the workflow sees it. */
export interface CommittedVersion {
  readonly version: string
  readonly sequence: number
  readonly records: number
  readonly added: number
}

/** Names of winnow's search attributes (registered on the dev server and by `winnow worker`). */
export const SEARCH_ATTRIBUTES = {
  dataset: "WinnowDataset",
  status: "WinnowStatus",
  campaign: "WinnowCampaign"
} as const

/** The prompt set a shard reads its slice from. */
export const shardPrompts = (input: ShardInput): PromptSet => input.prompts ?? { ref: input.promptsRef ?? "", count: 0, pageSize: 0 }
