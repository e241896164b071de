import type { Client } from "@temporalio/client"
import { tsToMs } from "@temporalio/common/lib/time.js"
import type proto from "@temporalio/proto"

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent

/** One activity as its workflow's history tells it, by the server's clock (ms since the epoch). */
export interface ActivitySpan {
  readonly type: string
  readonly workflowId: string
  readonly scheduledAt: number
  readonly startedAt: number
  readonly closedAt: number
}

/** A campaign's run as its histories tell it: when it started and closed, and every activity of it and its shards. */
export interface CampaignTimeline {
  readonly startedAt: number
  readonly closedAt: number
  readonly shards: number
  readonly activities: readonly ActivitySpan[]
}

const spansOf = (workflowId: string, events: readonly HistoryEvent[]): ActivitySpan[] => {
  const scheduled = new Map<string, { type: string; at: number }>()
  const started = new Map<string, number>()
  const spans: ActivitySpan[] = []
  for (const event of events) {
    const id = String(event.eventId ?? "")
    const at = tsToMs(event.eventTime)
    const scheduledAttributes = event.activityTaskScheduledEventAttributes
    if (scheduledAttributes) scheduled.set(id, { type: scheduledAttributes.activityType?.name ?? "?", at })
    const startedAttributes = event.activityTaskStartedEventAttributes
    if (startedAttributes) started.set(String(startedAttributes.scheduledEventId ?? ""), at)
    const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes
    if (closed) {
      const key = String(closed.scheduledEventId ?? "")
      const schedule = scheduled.get(key)
      if (schedule) spans.push({ type: schedule.type, workflowId, scheduledAt: schedule.at, startedAt: started.get(key) ?? schedule.at, closedAt: at })
    }
  }
  return spans
}

/**
 * Reads the histories of a finished campaign (its one run) and of every child workflow it started
 * (its shards), and returns every activity's schedule, start and close time. Use to split a
 * campaign's wall time into generation, scoring and everything else.
 */
export const campaignTimeline = async (client: Client, workflowId: string): Promise<CampaignTimeline> => {
  const history = await client.workflow.getHandle(workflowId).fetchHistory()
  const events = history.events ?? []
  const children = events.flatMap((e) => (e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ? [e.childWorkflowExecutionStartedEventAttributes.workflowExecution.workflowId] : []))
  const activities = spansOf(workflowId, events)
  for (let i = 0; i < children.length; i += 16) {
    const batch = await Promise.all(children.slice(i, i + 16).map(async (id) => spansOf(id, (await client.workflow.getHandle(id).fetchHistory()).events ?? [])))
    activities.push(...batch.flat())
  }
  return { startedAt: tsToMs(events[0]!.eventTime), closedAt: tsToMs(events.at(-1)!.eventTime), shards: children.length, activities }
}

/** Milliseconds covered by at least one of the intervals. */
export const unionMs = (intervals: ReadonlyArray<readonly [number, number]>): number => {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0])
  let total = 0
  let from = -Infinity
  let to = -Infinity
  for (const [start, end] of sorted) {
    if (start > to) {
      if (to > from) total += to - from
      from = start
      to = end
    } else if (end > to) to = end
  }
  if (to > from) total += to - from
  return total
}

/** Per activity type: how many ran, their summed run time (started → closed) and queue wait (scheduled → started), in seconds. */
export const activityTotals = (timeline: CampaignTimeline): Record<string, { count: number; runSeconds: number; waitSeconds: number; coveredSeconds: number }> => {
  const types = [...new Set(timeline.activities.map((a) => a.type))]
  return Object.fromEntries(types.map((type) => {
    const spans = timeline.activities.filter((a) => a.type === type)
    return [type, {
      count: spans.length,
      runSeconds: spans.reduce((sum, a) => sum + a.closedAt - a.startedAt, 0) / 1000,
      waitSeconds: spans.reduce((sum, a) => sum + a.startedAt - a.scheduledAt, 0) / 1000,
      coveredSeconds: unionMs(spans.map((a) => [a.startedAt, a.closedAt] as const)) / 1000
    }]
  }))
}

/**
 * The engine's share of a campaign's wall time: the time in which no generate or score activity
 * was running (everything but generation and scoring: preparing, planning, selecting, staging,
 * committing, statistics, and Temporal's own scheduling between them), over the wall time from
 * the campaign's first history event to its last. Also the summed run time of the other
 * activities over the wall time, which counts engine work done while generation ran elsewhere.
 */
export const engineShare = (timeline: CampaignTimeline): { wallSeconds: number; modelSeconds: number; share: number; otherActivitySeconds: number; otherActivityShare: number } => {
  const wall = timeline.closedAt - timeline.startedAt
  const model = unionMs(timeline.activities.filter((a) => a.type === "generate" || a.type === "score").map((a) => [a.startedAt, a.closedAt] as const))
  const other = timeline.activities.filter((a) => a.type !== "generate" && a.type !== "score").reduce((sum, a) => sum + a.closedAt - a.startedAt, 0)
  return { wallSeconds: wall / 1000, modelSeconds: model / 1000, share: (wall - model) / wall, otherActivitySeconds: other / 1000, otherActivityShare: other / wall }
}
