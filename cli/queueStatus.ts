import type { Client, WorkflowHandle } from "@temporalio/client"
import proto, { type temporal } from "@temporalio/proto"
import type { CampaignSpec } from "../campaign/spec.js"

const { TaskQueueType, PendingActivityState } = proto.temporal.api.enums.v1
const WORKFLOW_QUEUE = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
const ACTIVITY_QUEUE = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
const STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED

const KIND_OF_ACTIVITY: Readonly<Record<string, "generation" | "scoring" | "store">> = {
  generate: "generation", writePrompts: "generation", score: "scoring",
  prepare: "store", select: "store", stage: "store", roundStats: "store", commit: "store", cleanWork: "store",
  planRound: "store", updateCurriculum: "store", evalStats: "store"
}

/** One task queue a running campaign uses: the work it carries, how many workers poll it, and what waits on it or runs there now. */
export interface QueueState {
  readonly queue: string
  readonly carries: readonly string[]
  readonly pollers: number
  /** Activities scheduled and not yet picked up by a worker (waiting for this queue). */
  readonly waiting: Readonly<Record<string, number>>
  readonly running: Readonly<Record<string, number>>
}

/**
 * True when a worker polled the campaign's workflow task queue lately, so a query of a closed
 * campaign can be answered (the query still needs a deadline: a worker that died a minute ago is
 * listed too).
 */
export const hasWorker = async (client: Client, taskQueue: string): Promise<boolean> => (await pollersOf(client, taskQueue, WORKFLOW_QUEUE)) > 0

const pollersOf = async (client: Client, queue: string, type: number): Promise<number> => {
  const answer = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: queue }, taskQueueType: type })
  return (answer.pollers ?? []).length
}

/**
 * Which queue a running campaign is waiting on: every queue its spec sends work to (the
 * workflow's own for kinds without one), its pollers, and the activities of the campaign and its
 * running shards that wait there (scheduled, not started) or run there.
 */
export const queueStatus = async (client: Client, handle: WorkflowHandle, spec: CampaignSpec, workflowQueue: string): Promise<QueueState[]> => {
  const queueOf = (activity: string): string => {
    if (activity === "improve") return spec.improve?.task_queue ?? workflowQueue
    const kind = KIND_OF_ACTIVITY[activity]
    return (kind && spec.task_queues?.[kind]) || workflowQueue
  }
  const history = await handle.fetchHistory()
  const started = new Set<string>()
  for (const e of history.events ?? []) {
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId
    if (child) started.add(child)
    const closed = (e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes ?? e.childWorkflowExecutionCanceledEventAttributes)?.workflowExecution?.workflowId
    if (closed) started.delete(closed)
  }
  const pending: temporal.api.workflow.v1.IPendingActivityInfo[] = [...((await handle.describe()).raw.pendingActivities ?? [])]
  for (const id of started) {
    const shard = await client.workflow.getHandle(id).describe().catch(() => undefined)
    pending.push(...(shard?.raw.pendingActivities ?? []))
  }
  const names = [workflowQueue, ...Object.values(spec.task_queues ?? {}), ...(spec.improve?.task_queue ? [spec.improve.task_queue] : [])]
  const states = new Map<string, { carries: Set<string>; waiting: Record<string, number>; running: Record<string, number> }>()
  for (const name of names) states.set(name, { carries: new Set(), waiting: {}, running: {} })
  states.get(workflowQueue)!.carries.add("workflows")
  for (const [kind, queue] of Object.entries(spec.task_queues ?? {})) states.get(queue)!.carries.add(kind)
  if (spec.improve?.task_queue) states.get(spec.improve.task_queue)!.carries.add("training")
  for (const p of pending) {
    const activity = p.activityType?.name ?? "?"
    const state = states.get(queueOf(activity))!
    const bucket = p.state === STARTED ? state.running : state.waiting
    bucket[activity] = (bucket[activity] ?? 0) + 1
  }
  return Promise.all([...states].map(async ([queue, s]) => ({
    queue,
    carries: [...s.carries, ...(s.carries.size === 0 || queue === workflowQueue ? ["other activities"] : [])],
    pollers: await pollersOf(client, queue, queue === workflowQueue ? WORKFLOW_QUEUE : ACTIVITY_QUEUE),
    waiting: s.waiting,
    running: s.running
  })))
}
