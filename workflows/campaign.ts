import {
  CancellationScope, continueAsNew, defineQuery, executeChild, isCancellation,
  proxyActivities, setHandler, upsertSearchAttributes, workflowInfo
} from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import type { CampaignInput, CampaignProgress, CampaignResult, CampaignStatus, PreparedCampaign } from "../campaign/contracts.js"
import { storeProfile } from "./profiles.js"
import { STATUS_KEY } from "./searchAttributes.js"
import { shardWorkflow } from "./shard.js"
import { runWindowed } from "./window.js"

const store = proxyActivities<Activities>(storeProfile)

/** Query answered by a running (or finished) campaign with its live progress. */
export const progressQuery = defineQuery<CampaignProgress>("progress")

/**
 * A self-play campaign. Each run of this workflow is one round: fan the shards out to child
 * workflows through a bounded window, commit the round as one dataset version, then continue
 * as new for the next round (so history stays small however many rounds there are).
 */
export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  const { spec, campaignId } = input
  const round = input.startRound ?? 1
  let progress: CampaignProgress = input.carried ?? {
    campaignId, dataset: spec.output.dataset, status: "running", round, rounds: spec.rounds,
    shardsDone: 0, shardsTotal: 0, prompts: 0, generated: 0, accepted: 0, versions: []
  }
  setHandler(progressQuery, () => progress)
  const setStatus = (status: CampaignStatus) => {
    progress = { ...progress, status }
    upsertSearchAttributes([{ key: STATUS_KEY, value: status }])
  }

  let prepared: PreparedCampaign
  try {
    prepared = input.prepared ?? (await store.prepare({ campaignId, spec }))
    progress = { ...progress, round, prompts: prepared.promptCount, shardsTotal: prepared.shards.length, shardsDone: 0 }
    await runWindowed(prepared.shards, spec.sharding.max_concurrent_shards, async (shard) => {
      const result = await executeChild(shardWorkflow, {
        workflowId: `${campaignId}-r${round}-s${shard.index}`,
        args: [{ campaignId, round, shard, promptsRef: prepared.promptsRef, spec }]
      })
      progress = {
        ...progress,
        shardsDone: progress.shardsDone + 1,
        generated: progress.generated + result.generated,
        accepted: progress.accepted + result.accepted
      }
    })
    const { workflowId, runId } = workflowInfo()
    const committed = await store.commit({ campaignId, workflowId, runId, round, dataset: spec.output.dataset, lineage: prepared.lineage })
    progress = { ...progress, versions: [...progress.versions, { round, version: committed.version, records: committed.records }] }
  } catch (error) {
    if (isCancellation(error)) await CancellationScope.nonCancellable(async () => setStatus("cancelled"))
    else setStatus("failed")
    throw error
  }

  if (round < spec.rounds) {
    return continueAsNew<typeof campaignWorkflow>({ ...input, prepared, startRound: round + 1, carried: { ...progress, round: round + 1 } })
  }
  setStatus("completed")
  return {
    campaignId,
    dataset: progress.dataset,
    version: progress.versions.at(-1)?.version ?? null,
    generated: progress.generated,
    accepted: progress.accepted,
    rounds: progress.versions.length
  }
}
