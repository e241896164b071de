import type { Client } from "@temporalio/client"
import { NotFound } from "../core/errors.js"
import { type CampaignHistory, type ExecutionEvents, summarizeHistory } from "./historySummary.js"

const SHARD_FETCHES_AT_ONCE = 8

const eventsOf = async (client: Client, workflowId: string, runId?: string): Promise<ExecutionEvents> => {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory()
  return { workflowId, runId: runId ?? "", events: history.events ?? [] }
}

/**
 * Reads a campaign's whole history from the server — every continue-as-new run, oldest first, and
 * every shard it started — and summarizes it. Needs no worker: use it for finished campaigns and
 * for `campaign history`. `shards: false` skips the shards' histories (their attempts and failures).
 */
export const loadCampaignHistory = async (client: Client, campaignId: string, options: { readonly shards?: boolean } = {}): Promise<CampaignHistory> => {
  if (/['\\]/.test(campaignId)) throw new NotFound({ kind: "campaign", name: campaignId, hint: "campaign ids have no quotes or backslashes" })
  const found: Array<{ runId: string; start: number }> = []
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${campaignId}'` })) found.push({ runId: wf.runId, start: wf.startTime.getTime() })
  if (found.length === 0) throw new NotFound({ kind: "campaign", name: campaignId, hint: "`winnow campaign list` shows the campaigns this server knows" })
  found.sort((a, b) => a.start - b.start)
  const runs = await Promise.all(found.map((f) => eventsOf(client, campaignId, f.runId)))
  const shardIds = options.shards === false ? [] : [...new Set(runs.flatMap((r) => r.events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? [])))]
  const shards: ExecutionEvents[] = []
  for (let i = 0; i < shardIds.length; i += SHARD_FETCHES_AT_ONCE) {
    const page = await Promise.all(shardIds.slice(i, i + SHARD_FETCHES_AT_ONCE).map((id) => eventsOf(client, id).catch(() => undefined)))
    for (const s of page) if (s) shards.push(s)
  }
  return summarizeHistory(campaignId, runs, shards)
}
