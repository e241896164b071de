import { defaultPayloadConverter } from "@temporalio/common"
import { tsToMs } from "@temporalio/common/lib/time.js"
import type { temporal } from "@temporalio/proto"
import type { CampaignInput, CampaignResult, RoundStats } from "../campaign/contracts.js"
import type { EvalStats } from "../campaign/evaluation.js"
import { NOTHING, type Spend, spendOf } from "../campaign/budget.js"
import { promptStageLoad } from "../campaign/loop.js"
import type { CampaignSpec } from "../campaign/spec.js"
import type { ReviewSummary, RoundReview } from "../campaign/review.js"
import type { DecideRequest } from "../campaign/reviewPool.js"

type Event = temporal.api.history.v1.IHistoryEvent
type Failure = temporal.api.failure.v1.IFailure
type Payloads = temporal.api.common.v1.IPayloads | null | undefined

/** One workflow execution's events: a campaign run (one per round) or a shard. */
export interface ExecutionEvents {
  readonly workflowId: string
  readonly runId: string
  readonly events: readonly Event[]
}

/** How one run of a campaign (one round) went. */
export interface RunSummary {
  readonly runId: string
  readonly round: number
  readonly started: string
  readonly closed?: string
  readonly ended: "running" | "continued" | "completed" | "failed" | "cancelled" | "terminated" | "timed out"
  readonly shards: { readonly started: number; readonly completed: number; readonly failed: number }
  readonly evalShards: { readonly started: number; readonly completed: number; readonly failed: number }
}

/** Every execution of one activity type across the campaign and its shards. */
export interface ActivityLine {
  readonly activity: string
  readonly queues: readonly string[]
  readonly executions: number
  /** Attempts over all executions (a first try counts one). */
  readonly attempts: number
  readonly retried: number
  readonly failed: number
}

/** An attempt that failed: where, which activity, its error code and message. */
export interface FailureView {
  readonly workflowId: string
  readonly activity?: string
  readonly code?: string
  readonly message: string
  readonly attempt?: number
  readonly final: boolean
}

/** One decision a reviewer sent that the campaign accepted (a skip included), for the audit trail. */
export interface ReviewDecisionView {
  readonly at: string
  readonly round: number
  readonly item: string
  readonly reviewer: string
  readonly action: string
  readonly decision_id: string
}

/** Update names of the review gate: kept out of `updates` (live changes), told in `reviews` and `reviewDecisions`. */
const REVIEW_UPDATES = new Set(["reviewClaim", "reviewDecide"])

/** A live change accepted by the campaign (`pause`, `resume`, `set`). */
export interface UpdateView {
  readonly at: string
  readonly name: string
  readonly args: readonly unknown[]
}

/** What a campaign's history says, across its continue-as-new runs and its shards. */
export interface CampaignHistory {
  readonly campaignId: string
  readonly status: RunSummary["ended"]
  readonly runs: readonly RunSummary[]
  readonly activities: readonly ActivityLine[]
  readonly failures: readonly FailureView[]
  readonly updates: readonly UpdateView[]
  /** The versions of `output.dataset`, one per committed round. */
  readonly versions: ReadonlyArray<{ readonly round: number; readonly version: string; readonly records: number; readonly added: number }>
  /** The versions of each entry of `outputs` (spec order), when the spec has them. */
  readonly outputVersions?: ReadonlyArray<{ readonly output: number; readonly dataset: string; readonly round: number; readonly version: string; readonly records: number; readonly added: number }>
  readonly stats: readonly RoundStats[]
  readonly evals: readonly EvalStats[]
  /** What the campaign's shards, evaluations and prompt stages spent, as its budget counts it. */
  readonly spent: Spend
  /** With `review`: what each reviewed round's review found, and every decision reviewers sent. */
  readonly reviews?: readonly RoundReview[]
  readonly reviewDecisions?: readonly ReviewDecisionView[]
  readonly result?: CampaignResult
  /** Why the campaign failed, when it did: the innermost cause. */
  readonly failure?: FailureView
}

const decode = <T>(payloads: Payloads): T | undefined => {
  const first = payloads?.payloads?.[0]
  return first ? (defaultPayloadConverter.fromPayload(first) as T) : undefined
}

const timeOf = (event: Event): string => (event.eventTime ? new Date(tsToMs(event.eventTime)).toISOString() : "")

/** The innermost cause of a failure, with the activity and code it names. */
export const causeOf = (failure: Failure | null | undefined, workflowId: string): FailureView | undefined => {
  if (!failure) return undefined
  let activity: string | undefined
  let where = workflowId
  let f: Failure = failure
  for (;;) {
    if (f.activityFailureInfo?.activityType?.name) activity = f.activityFailureInfo.activityType.name
    if (f.childWorkflowExecutionFailureInfo?.workflowExecution?.workflowId) where = f.childWorkflowExecutionFailureInfo.workflowExecution.workflowId
    if (!f.cause) break
    f = f.cause
  }
  const code = f.applicationFailureInfo?.type || (f.timeoutFailureInfo ? `TIMEOUT_${f.timeoutFailureInfo.timeoutType ?? ""}` : undefined) || (f.canceledFailureInfo ? "CANCELLED" : undefined)
  return { workflowId: where, ...(activity ? { activity } : {}), ...(code ? { code: String(code) } : {}), message: f.message ?? "", final: true }
}

const ENDINGS: ReadonlyArray<[keyof Event, RunSummary["ended"]]> = [
  ["workflowExecutionContinuedAsNewEventAttributes", "continued"],
  ["workflowExecutionCompletedEventAttributes", "completed"],
  ["workflowExecutionFailedEventAttributes", "failed"],
  ["workflowExecutionCanceledEventAttributes", "cancelled"],
  ["workflowExecutionTerminatedEventAttributes", "terminated"],
  ["workflowExecutionTimedOutEventAttributes", "timed out"]
]

const endingOf = (events: readonly Event[]): { ended: RunSummary["ended"]; at?: string } => {
  const last = events.at(-1)
  for (const [key, ended] of ENDINGS) if (last?.[key]) return { ended, at: timeOf(last) }
  return { ended: "running" }
}

const summarizeRun = (run: ExecutionEvents): RunSummary => {
  const input = decode<CampaignInput>(run.events[0]?.workflowExecutionStartedEventAttributes?.input)
  const shards = { started: 0, completed: 0, failed: 0 }
  const evalShards = { started: 0, completed: 0, failed: 0 }
  const kindOf = (id: string | null | undefined) => (/-e\d+-s\d+$/.test(id ?? "") ? evalShards : shards)
  for (const e of run.events) {
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) kindOf(e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId).started++
    if (e.childWorkflowExecutionCompletedEventAttributes) kindOf(e.childWorkflowExecutionCompletedEventAttributes.workflowExecution?.workflowId).completed++
    if (e.childWorkflowExecutionFailedEventAttributes) kindOf(e.childWorkflowExecutionFailedEventAttributes.workflowExecution?.workflowId).failed++
  }
  const { ended, at } = endingOf(run.events)
  return { runId: run.runId, round: input?.startRound ?? 1, started: run.events[0] ? timeOf(run.events[0]) : "", ...(at ? { closed: at } : {}), ended, shards, evalShards }
}

/** Activities, attempts and failures of one execution, added into `lines` and `failures`. */
const collectActivities = (run: ExecutionEvents, lines: Map<string, { queues: Set<string>; executions: number; attempts: number; retried: number; failed: number }>, failures: FailureView[]) => {
  const scheduled = new Map<string, { name: string }>()
  for (const e of run.events) {
    const s = e.activityTaskScheduledEventAttributes
    if (s) {
      const name = s.activityType?.name ?? "?"
      scheduled.set(String(e.eventId), { name })
      const line = lines.get(name) ?? { queues: new Set<string>(), executions: 0, attempts: 0, retried: 0, failed: 0 }
      if (s.taskQueue?.name) line.queues.add(s.taskQueue.name)
      line.executions++
      lines.set(name, line)
    }
    const started = e.activityTaskStartedEventAttributes
    if (started) {
      const name = scheduled.get(String(started.scheduledEventId))?.name ?? "?"
      const line = lines.get(name)
      const attempt = started.attempt ?? 1
      if (line) {
        line.attempts += attempt
        if (attempt > 1) line.retried++
      }
      const last = causeOf(started.lastFailure, run.workflowId)
      if (last && attempt > 1) failures.push({ ...last, activity: name, attempt: attempt - 1, final: false })
    }
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes
    if (failed) {
      const name = scheduled.get(String(failed.scheduledEventId))?.name ?? "?"
      const line = lines.get(name)
      if (line) line.failed++
      const cause = causeOf(failed.failure, run.workflowId)
      if (cause) failures.push({ ...cause, activity: name, final: true })
    }
  }
}

/** The failure with the number of attempts its activity made (its last start's attempt). */
const withAttempts = (failure: FailureView, executions: readonly ExecutionEvents[]): FailureView => {
  if (!failure.activity) return failure
  let attempt: number | undefined
  for (const run of executions.filter((x) => x.workflowId === failure.workflowId)) {
    const names = new Map<string, string>()
    for (const e of run.events) {
      if (e.activityTaskScheduledEventAttributes) names.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? "")
      const started = e.activityTaskStartedEventAttributes
      if (started && names.get(String(started.scheduledEventId)) === failure.activity) attempt = started.attempt ?? 1
    }
  }
  return attempt === undefined ? failure : { ...failure, attempt }
}

/** Results of the campaign's own activities of one type, with the input they ran on. */
const activityResults = <I, R>(runs: readonly ExecutionEvents[], type: string): Array<{ input: I; result: R }> => {
  const out: Array<{ input: I; result: R }> = []
  for (const run of runs) {
    const inputs = new Map<string, I>()
    for (const e of run.events) {
      const s = e.activityTaskScheduledEventAttributes
      if (s?.activityType?.name === type) inputs.set(String(e.eventId), decode<I>(s.input)!)
      const done = e.activityTaskCompletedEventAttributes
      if (done && inputs.has(String(done.scheduledEventId))) out.push({ input: inputs.get(String(done.scheduledEventId))!, result: decode<R>(done.result)! })
    }
  }
  return out
}

const plus = (a: Spend, b: Spend): Spend =>
  ({ samples: a.samples + b.samples, tokens: a.tokens + b.tokens, input_tokens: a.input_tokens + b.input_tokens, usd: a.usd + b.usd })

type Costed = Parameters<typeof spendOf>[0]

/** What finished shards (priced by the spec each ran under) and prompt stages cost. */
const spentOf = (runs: readonly ExecutionEvents[]): Spend => {
  let total = NOTHING
  for (const run of runs) {
    const specs = new Map<string, CampaignSpec>()
    for (const e of run.events) {
      const started = e.startChildWorkflowExecutionInitiatedEventAttributes
      if (started) specs.set(String(e.eventId), decode<{ spec: CampaignSpec }>(started.input)!.spec)
      const done = e.childWorkflowExecutionCompletedEventAttributes
      const spec = done ? specs.get(String(done.initiatedEventId)) : undefined
      const result = done ? decode<Costed>(done.result) : undefined
      if (spec && result) total = plus(total, spendOf(result, spec))
    }
  }
  for (const { input, result } of activityResults<{ spec: CampaignSpec }, Costed>(runs, "writePrompts")) {
    total = plus(total, spendOf(result, promptStageLoad(input.spec).spec))
  }
  return total
}

/**
 * Summarizes a campaign from its workflow histories (its runs, oldest first, and its shards'):
 * rounds, shards, activity attempts and failures with their codes, accepted updates, versions,
 * statistics, evaluations and spend. Reads only history, so it works with no worker running.
 */
export const summarizeHistory = (campaignId: string, runs: readonly ExecutionEvents[], shards: readonly ExecutionEvents[]): CampaignHistory => {
  const lines = new Map<string, { queues: Set<string>; executions: number; attempts: number; retried: number; failed: number }>()
  const failures: FailureView[] = []
  for (const run of [...runs, ...shards]) collectActivities(run, lines, failures)
  const accepted: UpdateView[] = runs.flatMap((run) => run.events.flatMap((e) => {
    const request = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest
    if (!request) return []
    const args = request.input?.args?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p)) ?? []
    return [{ at: timeOf(e), name: request.input?.name ?? "?", args }]
  }))
  const updates = accepted.filter((u) => !REVIEW_UPDATES.has(u.name))
  const seen = new Set<string>()
  const reviewDecisions = accepted.filter((u) => u.name === "reviewDecide").flatMap((u): ReviewDecisionView[] => {
    const r = u.args[0] as DecideRequest
    if (seen.has(r.decision_id)) return []
    seen.add(r.decision_id)
    return [{ at: u.at, round: r.round, item: r.item, reviewer: r.reviewer, action: r.action, decision_id: r.decision_id }]
  })
  const reviews = activityResults<{ round: number }, ReviewSummary>(runs, "applyReview").map(({ input, result: r }): RoundReview => ({ round: input.round, ...r }))
  const summaries = runs.map(summarizeRun)
  const last = runs.at(-1)
  const lastEvent = last?.events.at(-1)
  const failure = causeOf(lastEvent?.workflowExecutionFailedEventAttributes?.failure, campaignId)
  const result = decode<CampaignResult>(lastEvent?.workflowExecutionCompletedEventAttributes?.result)
  const commits = activityResults<{ round: number; output?: number; dataset: string }, { version: string; records: number; added: number }>(runs, "commit")
  const extra = commits.filter((c) => c.input.output)
  return {
    campaignId,
    status: summaries.at(-1)?.ended ?? "running",
    runs: summaries,
    activities: [...lines].map(([activity, l]) => ({ activity, queues: [...l.queues], executions: l.executions, attempts: l.attempts, retried: l.retried, failed: l.failed })),
    failures,
    updates,
    versions: commits.filter((c) => !c.input.output).map(({ input, result: r }) => ({ round: input.round, version: r.version, records: r.records, added: r.added })),
    ...(extra.length > 0 ? { outputVersions: extra.map(({ input, result: r }) => ({ output: input.output!, dataset: input.dataset, round: input.round, version: r.version, records: r.records, added: r.added })) } : {}),
    stats: activityResults<unknown, RoundStats>(runs, "roundStats").map((r) => r.result),
    evals: activityResults<unknown, EvalStats>(runs, "evalStats").map((r) => r.result),
    spent: spentOf(runs),
    ...(reviews.length > 0 || reviewDecisions.length > 0 ? { reviews, reviewDecisions } : {}),
    ...(result ? { result } : {}),
    ...(failure ? { failure: withAttempts(failure, [...runs, ...shards]) } : {})
  }
}
