import { randomBytes } from "node:crypto"
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from "@temporalio/client"
import type { CampaignInput, CampaignProgress, CampaignResult } from "../campaign/contracts.js"
import type { campaignWorkflow } from "../workflows/campaign.js"
import { CAMPAIGN_KEY, DATASET_KEY, STATUS_KEY } from "../workflows/searchAttributes.js"
import type { LoadedSpec } from "./specFile.js"
import type { ProgressBar } from "./output.js"
import { envQueueIssues, taskQueuesWithEnv } from "../campaign/queueSpec.js"
import { InputInvalid } from "../core/errors.js"

/** Workflow type name of campaigns (what `campaign list` filters on). */
export const CAMPAIGN_WORKFLOW = "campaignWorkflow"

/** A fresh campaign id: spec name, UTC time, random suffix. */
export const newCampaignId = (name: string, now = new Date()): string =>
  `${name}-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-")}-${randomBytes(3).toString("hex")}`

/**
 * Starts a campaign workflow for a validated spec; returns its handle. Kinds of work the spec
 * gives no queue take one from the environment (`WINNOW_GENERATION_QUEUE`, …) here, once.
 */
export const startCampaign = async (client: Client, taskQueue: string, loaded: LoadedSpec): Promise<WorkflowHandleWithFirstExecutionRunId<typeof campaignWorkflow>> => {
  const campaignId = newCampaignId(loaded.spec.name)
  const issues = envQueueIssues(process.env)
  if (issues.length > 0) throw new InputInvalid({ source: "environment", issues })
  const taskQueues = taskQueuesWithEnv(loaded.spec.task_queues, process.env)
  const input: CampaignInput = { campaignId, spec: taskQueues ? { ...loaded.spec, task_queues: taskQueues } : loaded.spec }
  return client.workflow.start<typeof campaignWorkflow>(CAMPAIGN_WORKFLOW, {
    taskQueue,
    workflowId: campaignId,
    args: [input],
    typedSearchAttributes: [
      { key: DATASET_KEY, value: loaded.spec.output.dataset },
      { key: STATUS_KEY, value: "running" },
      { key: CAMPAIGN_KEY, value: loaded.spec.name }
    ]
  })
}

/** Reads a campaign's progress; undefined when it cannot answer right now. */
export const queryProgress = async (handle: WorkflowHandle): Promise<CampaignProgress | undefined> => {
  try {
    return await handle.query<CampaignProgress>("progress")
  } catch {
    return undefined
  }
}

/** Waits for a campaign to finish, redrawing the progress bar while it runs. */
export const waitForCampaign = async (handle: WorkflowHandle<typeof campaignWorkflow>, bar: ProgressBar): Promise<CampaignResult> => {
  let finished = false
  const poll = (async () => {
    while (!finished) {
      const progress = await queryProgress(handle)
      if (progress && !finished) bar.update(progress)
      await new Promise((r) => setTimeout(r, 500))
    }
  })()
  try {
    return await handle.result()
  } finally {
    finished = true
    await poll
    bar.done()
  }
}
