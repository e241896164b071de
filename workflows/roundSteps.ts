import { executeChild } from "@temporalio/workflow"
import type { PreparedCampaign, ShardResult } from "../campaign/contracts.js"
import type { PromptSet, ShardPlan } from "../campaign/promptSets.js"
import type { GeneratorRef, LoopState } from "../campaign/loopContracts.js"
import type { EvalStats } from "../campaign/evaluation.js"
import { knownEval, specForEval } from "../campaign/loop.js"
import { maxRecordsPerPrompt, resolveSelection } from "../campaign/selection.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { activitiesOf } from "./queues.js"
import { shardWorkflow } from "./shard.js"
import { type QuotaSplit, runWindowed, runWindowedWithQuota, type WindowControl } from "./window.js"


/**
 * What one round's shards need: where they read prompts, who samples, and — read afresh at each
 * launch, so live changes apply to shards launched after them — the spec they run, its settings
 * revision, and the window's width and gate.
 */
export interface RoundShards {
  readonly campaignId: string
  readonly round: number
  readonly spec: () => CampaignSpec
  readonly revision: () => number
  readonly window: WindowControl<ShardPlan>
  readonly prompts: PromptSet
  readonly shards: readonly ShardPlan[]
  readonly generatorHash: string
  /** Reserves a shard's most cost before it starts; the returned function settles it with what it did cost. */
  readonly reserve: (shard: ShardPlan) => (result: ShardResult) => void
}

/** What a finished shard adds to the campaign's progress. */
export interface ShardDone {
  readonly generated: number
  readonly accepted: number
  /** Shards that one split under a quota added to the round's plan. */
  readonly addedShards: number
  /** What the shard staged for each of the spec's `outputs`, when it has them. */
  readonly outputs?: ShardResult["outputs"]
}

/**
 * Runs a round's shards as child workflows through a sliding window. With an accept-until-K
 * quota it launches shards only while the records kept plus those reserved stay below K, and
 * shrinks the last ones. Reports each finished shard; returns the indexes of the shards that ran.
 */
export const runRoundShards = async (round: RoundShards, quota: number | undefined, onDone: (done: ShardDone) => void): Promise<number[]> => {
  const ran: number[] = []
  const runShard = async (shard: ShardPlan, acceptLimit?: number): Promise<number> => {
    const revision = round.revision()
    const settle = round.reserve(shard)
    const result = await executeChild(shardWorkflow, {
      workflowId: `${round.campaignId}-r${round.round}-s${shard.index}`,
      args: [{
        campaignId: round.campaignId, round: round.round, shard, prompts: round.prompts, spec: round.spec(), generatorHash: round.generatorHash,
        ...(revision > 0 ? { settingsRevision: revision } : {}), ...(acceptLimit !== undefined ? { acceptLimit } : {})
      }]
    })
    settle(result)
    ran.push(shard.index)
    onDone({ generated: result.generated, accepted: result.accepted, addedShards: 0, ...(result.outputs ? { outputs: result.outputs } : {}) })
    return result.accepted
  }
  if (quota === undefined) {
    await runWindowed(round.shards, round.window, async (shard) => { await runShard(shard) })
    return ran
  }
  let nextIndex = round.shards.length
  const split = (shard: ShardPlan, free: number): QuotaSplit<ShardPlan> => {
    const spec = round.spec()
    const perPrompt = maxRecordsPerPrompt(resolveSelection(spec.selection, spec.generator.n), spec.generator.n)
    const size = shard.end - shard.start
    if (perPrompt === 0 || size * perPrompt <= free) return { run: shard, limit: size * perPrompt }
    const take = Math.ceil(free / perPrompt)
    onDone({ generated: 0, accepted: 0, addedShards: 1 })
    return { run: { ...shard, end: shard.start + take }, limit: free, rest: { index: nextIndex++, start: shard.start + take, end: shard.end } }
  }
  await runWindowedWithQuota(round.shards, round.window, quota, split, runShard)
  return ran
}

/**
 * Evaluates a generator on the held-out prompts: evaluation shards (generate and score, seeded
 * alike for every generator), then pass@1, pass@k and mean scores. Weights already evaluated are
 * not sampled again: their numbers are carried over under the new round.
 */
export const evaluateGenerator = async (
  campaignId: string,
  spec: CampaignSpec,
  prepared: PreparedCampaign,
  loop: LoopState,
  generator: GeneratorRef,
  round: number,
  budgetFor: (spec: CampaignSpec) => { readonly window: WindowControl<ShardPlan>; readonly reserve: (shard: ShardPlan) => (result: ShardResult) => void }
): Promise<EvalStats> => {
  const known = knownEval(loop, generator)
  if (known) return { ...known, round }
  const evalSpec = specForEval(spec, generator)
  const { window, reserve } = budgetFor(evalSpec)
  const shards = prepared.evalShards ?? []
  await runWindowed(shards, window, async (shard) => {
    const settle = reserve(shard)
    settle(await executeChild(shardWorkflow, {
      workflowId: `${campaignId}-e${round}-s${shard.index}`,
      args: [{ campaignId, round, shard, prompts: prepared.evalPrompts!, spec: evalSpec, purpose: "eval", generatorHash: generator.model_hash }]
    }))
  })
  const { store } = activitiesOf(spec)
  const stats = await store.evalStats({ campaignId, round, shards: shards.map((s) => s.index), spec: evalSpec, generator })
  if (!spec.output.keep_work) await store.cleanWork({ campaignId, round, purpose: "eval" })
  return stats
}
