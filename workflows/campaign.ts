import {
  CancellationScope, continueAsNew, defineQuery, executeChild, isCancellation,
  patched, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo
} from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import {
  type CampaignInput, type CampaignProgress, type CampaignResult, type CampaignStatus, type LegacyPreparedCampaign, type PreparedCampaign,
  preparedPrompts, type ShardPlan, STATS_ROUNDS_KEPT
} from "../campaign/contracts.js"
import { maxRecordsPerPrompt, resolveSelection } from "../campaign/selection.js"
import { storeProfile } from "./profiles.js"
import { STATUS_KEY } from "./searchAttributes.js"
import { shardWorkflow } from "./shard.js"
import { type QuotaSplit, runWindowed, runWindowedWithQuota } from "./window.js"

/** Patch id of the per-round statistics activity (histories recorded before it have no such call). */
export const ROUND_STATS_PATCH = "winnow-round-stats"

/** Patch id of deleting a round's work files after its commit (unless `output.keep_work`). */
export const CLEAN_WORK_PATCH = "winnow-clean-work"

/** Patch id of `accept_until` counting records kept after dedup (before it, records accepted by shards). */
export const KEPT_QUOTA_PATCH = "winnow-quota-after-dedup"

const store = proxyActivities<Activities>(storeProfile)

/** Query answered by a running (or finished) campaign with its live progress. */
export const progressQuery = defineQuery<CampaignProgress>("progress")

/**
 * A self-play campaign. Each run of this workflow is one round: fan the shards out to child
 * workflows through a bounded window, record the round's statistics, commit the round as one
 * dataset version, delete the round's work files (unless `output.keep_work`), then continue as
 * new for the next round (so history stays small however many rounds there are). With `selection.accept_until` = K it launches shards only while
 * the records kept so far (added by earlier rounds' commits, after dedup) plus those accepted or
 * reserved in this round stay below K, shrinks the last shards, and stops after the round whose
 * commit brings the kept records to K; a round that dedup leaves short is topped up by the next.
 */
export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  const { spec, campaignId } = input
  const round = input.startRound ?? 1
  const acceptUntil = spec.selection.accept_until
  let progress: CampaignProgress = input.carried ?? {
    campaignId, dataset: spec.output.dataset, status: "running", round, rounds: spec.rounds,
    shardsDone: 0, shardsTotal: 0, prompts: 0, generated: 0, accepted: 0, versions: []
  }
  setHandler(progressQuery, () => progress)
  const quotaAfterDedup = acceptUntil !== undefined && patched(KEPT_QUOTA_PATCH)
  const counted = () => (quotaAfterDedup ? keptOf(progress) : progress.accepted)
  const setStatus = (status: CampaignStatus) => {
    progress = { ...progress, status }
    upsertSearchAttributes([{ key: STATUS_KEY, value: status }])
  }

  let prepared: PreparedCampaign | LegacyPreparedCampaign
  try {
    prepared = input.prepared ?? (await store.prepare({ campaignId, spec }))
    const prompts = preparedPrompts(prepared)
    progress = { ...progress, round, prompts: prompts.count, shardsTotal: prepared.shards.length, shardsDone: 0, ...(acceptUntil !== undefined ? { acceptUntil } : {}) }
    const ran: number[] = []
    const runShard = async (shard: ShardPlan, acceptLimit?: number): Promise<number> => {
      const result = await executeChild(shardWorkflow, {
        workflowId: `${campaignId}-r${round}-s${shard.index}`,
        args: [{ campaignId, round, shard, prompts, spec, ...(acceptLimit !== undefined ? { acceptLimit } : {}) }]
      })
      ran.push(shard.index)
      progress = {
        ...progress,
        shardsDone: progress.shardsDone + 1,
        generated: progress.generated + result.generated,
        accepted: progress.accepted + result.accepted
      }
      return result.accepted
    }
    if (acceptUntil === undefined) {
      await runWindowed(prepared.shards, spec.sharding.max_concurrent_shards, async (shard) => { await runShard(shard) })
    } else {
      let nextIndex = prepared.shards.length
      const perPrompt = maxRecordsPerPrompt(resolveSelection(spec.selection, spec.generator.n), spec.generator.n)
      const split = (shard: ShardPlan, free: number): QuotaSplit<ShardPlan> => {
        const size = shard.end - shard.start
        if (perPrompt === 0 || size * perPrompt <= free) return { run: shard, limit: size * perPrompt }
        const take = Math.ceil(free / perPrompt)
        progress = { ...progress, shardsTotal: progress.shardsTotal + 1 }
        return { run: { ...shard, end: shard.start + take }, limit: free, rest: { index: nextIndex++, start: shard.start + take, end: shard.end } }
      }
      await runWindowedWithQuota(prepared.shards, spec.sharding.max_concurrent_shards, acceptUntil - counted(), split, runShard)
    }
    if (patched(ROUND_STATS_PATCH)) {
      const stats = await store.roundStats({ campaignId, round, shards: ran, spec })
      progress = { ...progress, stats: [...(progress.stats ?? []), stats].slice(-STATS_ROUNDS_KEPT) }
    }
    const { workflowId, runId } = workflowInfo()
    const committed = await store.commit({ campaignId, workflowId, runId, round, dataset: spec.output.dataset, lineage: prepared.lineage })
    progress = { ...progress, versions: [...progress.versions, { round, version: committed.version, records: committed.records, added: committed.added }] }
    if (!spec.output.keep_work && patched(CLEAN_WORK_PATCH)) await store.cleanWork({ campaignId, round })
  } catch (error) {
    if (isCancellation(error)) await CancellationScope.nonCancellable(async () => setStatus("cancelled"))
    else setStatus("failed")
    throw error
  }

  const quotaReached = acceptUntil !== undefined && counted() >= acceptUntil
  if (round < spec.rounds && !quotaReached) {
    return continueAsNew<typeof campaignWorkflow>({ ...input, prepared, startRound: round + 1, carried: { ...progress, round: round + 1 } })
  }
  setStatus("completed")
  return {
    campaignId,
    dataset: progress.dataset,
    version: progress.versions.at(-1)?.version ?? null,
    generated: progress.generated,
    accepted: progress.accepted,
    kept: keptOf(progress),
    rounds: progress.versions.length
  }
}

/** Records the campaign's committed rounds added to the dataset after dedup. */
const keptOf = (progress: CampaignProgress): number => progress.versions.reduce((sum, v) => sum + (v.added ?? 0), 0)
