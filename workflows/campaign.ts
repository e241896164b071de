import {
  CancellationScope, continueAsNew, defineQuery, isCancellation, patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo
} from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import { type CampaignInput, type CampaignProgress, type CampaignResult, type CampaignStatus, type LegacyPreparedCampaign, type PreparedCampaign, preparedPrompts, type ShardResult, STATS_ROUNDS_KEPT } from "../campaign/contracts.js"
import { type PromptSet, type ShardPlan } from "../campaign/promptSets.js"
import { type LoopState, type RoundPlanResult } from "../campaign/loopContracts.js"
import { inputBoundOf } from "../campaign/budget.js"
import { promptStageLoad, specForRound, startLoop, trainBaseOf } from "../campaign/loop.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { outcomeOf } from "../campaign/outcome.js"
import type { ReviewSummary, RoundReview } from "../campaign/review.js"
import { trainingProfile } from "./profiles.js"
import { activitiesOf } from "./queues.js"
import { CampaignControl } from "./control.js"
import { evaluateGenerator, runRoundShards } from "./roundSteps.js"
import { STATUS_KEY } from "./searchAttributes.js"
import { BudgetGate } from "./budgetGate.js"
import { commitOutputs, outputsResult, withCommittedOutputs, withShardOutputs } from "./outputs.js"
import { REVIEW_PATCH, ReviewGate } from "./review.js"

/** Patch id of the per-round statistics activity (histories recorded before it have no such call). */
export const ROUND_STATS_PATCH = "winnow-round-stats"

/** Patch id of deleting a round's work files after its commit (unless `output.keep_work`). */
export const CLEAN_WORK_PATCH = "winnow-clean-work"

/** Patch id of `accept_until` counting records kept after dedup (before it, records accepted by shards). */
export const KEPT_QUOTA_PATCH = "winnow-quota-after-dedup"

/**
 * Patch id of honouring a cancel that arrived while nothing could be cancelled (during a commit)
 * before the next round starts: before it, the round continued as new and the cancel was lost.
 */
export const CANCEL_BEFORE_NEXT_ROUND_PATCH = "winnow-cancel-before-next-round"


/** Query answered by a running (or finished) campaign with its live progress. */
export const progressQuery = defineQuery<CampaignProgress>("progress")

/**
 * A self-play campaign. Each run of this workflow is one round:
 *   evaluate the starting generator (round 1, with `eval`) → write new prompts (with
 *   `prompt_stage`) → plan the round's prompts (with `curriculum`) → shards through a bounded window → round statistics →
 *   wait for reviewers (with `review`) → commit one dataset version → update the per-prompt pass rates → delete the round's work files → train the next
 *   generator on what was committed (with `improve`) → evaluate it → continue as new.
 * With `selection.accept_until` = K it launches shards only while the records kept so far (after
 * dedup) plus those accepted or reserved in this round stay below K, and stops after the round
 * whose commit brings the kept records to K.
 */
export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  const { campaignId } = input
  const round = input.startRound ?? 1
  const control = new CampaignControl(input.spec, input.control, () => {
    progress = { ...progress, paused: control.isPaused, ...(control.revision > 0 ? { revisions: control.carry().revisions } : {}) }
  })
  control.register()
  const spec = input.spec
  const { store, promptStage } = activitiesOf(spec)
  const acceptUntil = spec.selection.accept_until
  const looping = spec.improve !== undefined || spec.eval !== undefined || spec.curriculum !== undefined || spec.prompt_stage !== undefined
  let progress: CampaignProgress = input.carried ?? {
    campaignId, dataset: spec.output.dataset, status: "running", round, rounds: spec.rounds,
    shardsDone: 0, shardsTotal: 0, prompts: 0, generated: 0, accepted: 0, versions: []
  }
  setHandler(progressQuery, () => progress)
  const review = new ReviewGate(campaignId, round, (state) => { progress = { ...progress, review: state } })
  review.register()
  if (spec.review) progress = { ...progress, review: review.state() }
  if (progress.startedAt === undefined) progress = { ...progress, startedAt: new Date().toISOString() }
  const budget = new BudgetGate(() => control.spec.budget, Date.parse(progress.startedAt!), progress.spent)
  const spend = () => { progress = { ...progress, spent: budget.spent } }
  /** The window and reservations of work on `prompts` under `specOf()`: paused waits, budgets gate. */
  const budgetFor = (specOf: () => CampaignSpec, prompts: PromptSet | undefined) => ({
    window: {
      width: () => control.spec.sharding.max_concurrent_shards,
      gate: (shard: ShardPlan) => (control.isPaused ? "wait" as const : budget.admits(shard.end - shard.start, specOf(), inputBoundOf(prompts?.maxInputBytes, specOf())))
    },
    reserve: (shard: ShardPlan) => {
      const settle = budget.reserve(shard, specOf(), inputBoundOf(prompts?.maxInputBytes, specOf()))
      return (result: ShardResult) => { settle(result); spend() }
    }
  })
  const quotaAfterDedup = acceptUntil !== undefined && patched(KEPT_QUOTA_PATCH)
  const counted = () => (quotaAfterDedup ? keptOf(progress) : progress.accepted)
  const setStatus = (status: CampaignStatus) => {
    progress = { ...progress, status }
    upsertSearchAttributes([{ key: STATUS_KEY, value: status }])
  }
  const phase = (now: CampaignProgress["phase"]) => { if (looping) progress = { ...progress, phase: now } }

  let prepared: PreparedCampaign | LegacyPreparedCampaign
  let loop: LoopState | undefined = input.loop
  let plan: RoundPlanResult | undefined
  try {
    prepared = input.prepared ?? (await store.prepare({ campaignId, spec }))
    const fresh = prepared as PreparedCampaign
    if (looping) loop ??= startLoop(fresh)
    if (spec.eval && loop && loop.evals.length === 0) {
      phase("evaluating")
      loop = withEval(loop, await evaluateGenerator(campaignId, control.spec, fresh, loop, loop.generator, 0, (evalSpec) => budgetFor(() => evalSpec, fresh.evalPrompts)))
      progress = { ...progress, evals: loop.evals }
    }
    const stageLoad = promptStageLoad(control.spec)
    const written = spec.prompt_stage && loop && budget.admits(stageLoad.prompts, stageLoad.spec, inputBoundOf(undefined, stageLoad.spec)) === "open"
      ? await promptStage.writePrompts({
          campaignId, round, spec, prompts: loop.prompts ?? preparedPrompts(prepared), generator: loop.generator,
          ...(fresh.evalPrompts ? { evalPrompts: fresh.evalPrompts } : {}), ...(loop.curriculum ? { curriculum: loop.curriculum } : {})
        })
      : undefined
    if (written && loop) {
      budget.book(written, stageLoad.spec)
      spend()
      loop = { ...loop, prompts: written.prompts }
      progress = { ...progress, promptStage: { round, version: written.version, added: written.added, operators: written.operators } }
    }
    const campaignPrompts = loop?.prompts ?? preparedPrompts(prepared)
    plan = spec.curriculum ? await store.planRound({ campaignId, round, spec, prompts: campaignPrompts, ...(loop?.curriculum ? { curriculum: loop.curriculum } : {}) }) : undefined
    const prompts = plan?.prompts ?? campaignPrompts
    const shards = plan?.shards ?? written?.shards ?? prepared.shards
    progress = { ...progress, round, prompts: prompts.count, shardsTotal: shards.length, shardsDone: 0, ...(acceptUntil !== undefined ? { acceptUntil } : {}) }
    if (plan && plan.prompts.count === 0) return finish(`the curriculum left no prompt to sample in round ${round} (dropped: ${plan.dropped.solved} solved, ${plan.dropped.capped} capped)`)
    phase("sampling")
    const roundSpec = () => specForRound(control.spec, loop?.generator, plan?.threshold)
    const ran = await runRoundShards(
      {
        campaignId, round, spec: roundSpec, revision: () => control.revision, ...budgetFor(roundSpec, prompts), prompts, shards,
        generatorHash: loop?.generator.model_hash ?? prepared.lineage.generator.model_hash
      },
      acceptUntil === undefined ? undefined : acceptUntil - counted(),
      (done) => {
        progress = done.addedShards > 0
          ? { ...progress, shardsTotal: progress.shardsTotal + done.addedShards }
          : withShardOutputs({ ...progress, shardsDone: progress.shardsDone + 1, generated: progress.generated + done.generated, accepted: progress.accepted + done.accepted }, spec, done.outputs)
      }
    )
    if (patched(ROUND_STATS_PATCH)) {
      const stats = await store.roundStats({ campaignId, round, shards: ran, spec: roundSpec() })
      progress = { ...progress, stats: [...(progress.stats ?? []), stats].slice(-STATS_ROUNDS_KEPT) }
    }
    const reviewed = spec.review && patched(REVIEW_PATCH) ? await review.run(store, spec.review, { spec: roundSpec(), prompts, shards: ran }) : undefined
    if (reviewed) progress = { ...progress, reviews: [...(progress.reviews ?? []), reviewed] }
    const { workflowId, runId } = workflowInfo()
    // A cancel that arrives during a commit waits for it: no version lands after the campaign says it is cancelled.
    const commitInput = {
      campaignId, workflowId, runId, round, dataset: spec.output.dataset,
      lineage: plan?.threshold === undefined ? prepared.lineage : { ...prepared.lineage, selection: { ...prepared.lineage.selection, min_score: plan.threshold } },
      ...(loop ? { generator: loop.generator } : {}),
      ...(loop?.evals.length ? { eval: loop.evals.at(-1)! } : {}),
      ...(reviewed ? { review: summaryOf(reviewed) } : {})
    }
    const [committed, committedOutputs] = await CancellationScope.nonCancellable(async () => {
      const first = await store.commit(commitInput)
      return [first, await commitOutputs(store, spec, { ...commitInput, lineage: prepared.lineage })] as const
    })
    progress = { ...progress, versions: [...progress.versions, { round, version: committed.version, records: committed.records, added: committed.added }] }
    progress = withCommittedOutputs(progress, spec, round, committedOutputs)
    if (spec.curriculum && loop) loop = { ...loop, curriculum: await store.updateCurriculum({ campaignId, round, shards: ran, spec: roundSpec(), ...(loop.curriculum ? { curriculum: loop.curriculum } : {}) }) }
    if (!spec.output.keep_work && patched(CLEAN_WORK_PATCH)) await store.cleanWork({ campaignId, round })
    if (budget.stopped) progress = { ...progress, budgetStop: budget.stopped }
    if (spec.improve && loop && !budget.stopped) {
      phase("training")
      const trainer = proxyActivities<Activities>(trainingProfile(spec.improve))
      const trained = await trainer.improve({ campaignId, round, spec: control.spec, dataset: spec.output.dataset, version: committed.version, base: trainBaseOf(fresh), previous: loop.generator })
      loop = { ...loop, generator: trained.generator, models: [...loop.models, { round, model_id: trained.generator.model_id ?? "", model_hash: trained.generator.model_hash, reused: trained.reused }] }
      if (spec.eval) {
        phase("evaluating")
        loop = withEval(loop, await evaluateGenerator(campaignId, control.spec, fresh, loop, loop.generator, round, (evalSpec) => budgetFor(() => evalSpec, fresh.evalPrompts)))
        progress = { ...progress, evals: loop.evals }
      }
    }
    if (CancellationScope.current().consideredCancelled && patched(CANCEL_BEFORE_NEXT_ROUND_PATCH)) await CancellationScope.current().cancelRequested
  } catch (error) {
    if (isCancellation(error)) await CancellationScope.nonCancellable(async () => setStatus("cancelled"))
    else setStatus("failed")
    throw error
  }

  const quotaReached = acceptUntil !== undefined && counted() >= acceptUntil
  if (round < spec.rounds && !quotaReached && !budget.stopped) {
    return continueAsNew<typeof campaignWorkflow>({
      ...input, spec: control.spec, prepared, startRound: round + 1, carried: { ...progress, round: round + 1 },
      ...(loop ? { loop } : {}), ...(control.revision > 0 || control.isPaused ? { control: control.carry() } : {})
    })
  }
  return finish()

  function finish(stopReason?: string): CampaignResult {
    setStatus("completed")
    progress = { ...progress, ...(stopReason ? { stopReason } : {}) }
    const { outcome, reason } = outcomeOf(progress, acceptUntil)
    return {
      outcome,
      ...(reason ? { reason } : {}),
      campaignId,
      dataset: progress.dataset,
      version: progress.versions.at(-1)?.version ?? null,
      generated: progress.generated,
      accepted: progress.accepted,
      kept: keptOf(progress),
      rounds: progress.versions.length,
      ...(loop?.evals.length ? { evals: loop.evals.map((e) => ({ round: e.round, pass_at_1: e.pass_at_1 })) } : {}),
      ...(loop && spec.improve ? { generator: loop.generator } : {}),
      ...(stopReason ? { stopReason } : {}),
      ...(progress.reviews ? { reviews: progress.reviews } : {}),
      ...outputsResult(progress)
    }
  }
}

/** Records the campaign's committed rounds added to the dataset after dedup. */
const keptOf = (progress: CampaignProgress): number => progress.versions.reduce((sum, v) => sum + (v.added ?? 0), 0)

/** A round's review as its version's lineage records it (the round is the version's own). */
const summaryOf = ({ round: _round, ...summary }: RoundReview): ReviewSummary => summary

/** The loop state with one more evaluation. */
const withEval = (loop: LoopState, stats: LoopState["evals"][number]): LoopState => ({ ...loop, evals: [...loop.evals, stats] })
