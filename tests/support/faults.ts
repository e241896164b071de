import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, unlinkSync, utimesSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Client } from "@temporalio/client"
import { tsToMs } from "@temporalio/common/lib/time.js"
import proto from "@temporalio/proto"
import { Effect, Stream } from "effect"
import { storeRoot } from "../../core/home.js"
import { storeLayout } from "../../datasets/layout.js"
import type { DatasetRecord } from "../../datasets/record.js"
import { DatasetStore } from "../../datasets/store.js"

/** The repository root, whether this file runs from source (tests) or from `dist/` (benches). */
export const repoRoot: string = ((here) => (existsSync(join(here, "bin/winnow.js")) ? here : join(here, "..")))(fileURLToPath(new URL("../../", import.meta.url)))
const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
const ACTIVITY_QUEUE = proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A `winnow worker` process of its own; `identity` is the worker Temporal names on the activities it runs. */
export interface WorkerProcess {
  readonly child: ChildProcess
  readonly identity: string
  /** Settles when the process has exited, killed or by itself. */
  readonly exited: Promise<void>
  /** SIGKILL (no shutdown, no goodbye to Temporal) and wait until it is gone. */
  kill(): Promise<void>
  /** The last few kilobytes it wrote to stderr, for failure messages. */
  log(): string
}

/**
 * Starts `winnow worker` (the built bin) as a process on `queue` against `address`, with
 * `threads` inference threads (default 1); `env` adds to its environment. Use where a test or
 * bench must SIGKILL a worker (an in-process worker cannot die alone), or runs several workers.
 */
export const spawnWorkerProcess = (options: { address: string; queue: string; home: string; env?: Record<string, string>; threads?: number }): WorkerProcess => {
  const child = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "worker", "--task-queue", options.queue, "--threads", String(options.threads ?? 1)], {
    env: { ...process.env, WINNOW_LOG_LEVEL: "warn", TEMPORAL_ADDRESS: options.address, WINNOW_TASK_QUEUE: options.queue, WINNOW_HOME: options.home, ...options.env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let tail = ""
  child.stderr!.on("data", (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-4000) })
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })
  return {
    child,
    identity: `${child.pid}@${hostname()}`,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      await exited
    },
    log: () => tail
  }
}

/**
 * Waits until every worker named in `identities` polls the activity task queue `queue` (as
 * Temporal's task queue description lists its pollers). Use to know a standby worker is ready
 * before killing another.
 */
export const untilPolling = async (client: Client, queue: string, identities: readonly string[], timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const { pollers } = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: queue }, taskQueueType: ACTIVITY_QUEUE })
    const polling = new Set((pollers ?? []).map((p) => p.identity))
    if (identities.every((id) => polling.has(id))) return
    await sleep(200)
  }
  throw new Error(`workers ${identities.join(", ")} did not all poll ${queue} within ${timeoutMs} ms`)
}

/** One attempt of an activity that Temporal lists as running (started, not closed). */
export interface RunningActivity {
  readonly workflowId: string
  readonly activityId: string
  readonly type: string
  readonly attempt: number
  /** The identity of the worker running this attempt. */
  readonly worker: string
  /** When this attempt started, by the server's clock (ms since the epoch). */
  readonly startedAt: number
}

const runningIn = (workflowId: string, pending: ReadonlyArray<proto.temporal.api.workflow.v1.IPendingActivityInfo> | null | undefined): RunningActivity[] =>
  (pending ?? []).filter((a) => a.state === STARTED).map((a) => ({
    workflowId,
    activityId: a.activityId ?? "",
    type: a.activityType?.name ?? "",
    attempt: a.attempt ?? 1,
    worker: a.lastWorkerIdentity ?? "",
    startedAt: tsToMs(a.lastStartedTime)
  }))

/**
 * The activities running now in a workflow (a campaign's latest run) and in its pending child
 * workflows (its shards). Empty once it has closed. Use to find the moment to kill a worker.
 */
export const runningActivities = async (client: Client, workflowId: string): Promise<RunningActivity[]> => {
  const { raw } = await client.workflow.getHandle(workflowId).describe()
  const children = await Promise.all((raw.pendingChildren ?? []).map(async (child) => {
    const described = await client.workflow.getHandle(child.workflowId!).describe().catch(() => undefined)
    return runningIn(child.workflowId!, described?.raw.pendingActivities)
  }))
  return [...runningIn(workflowId, raw.pendingActivities), ...children.flat()]
}

/**
 * Polls (every 100 ms) until an activity of the campaign `workflowId` that `match`es is running;
 * fails if the campaign closes first or after `timeoutMs`. Use to kill a worker mid-activity
 * without guessing a sleep.
 */
export const untilRunning = async (client: Client, workflowId: string, match: (a: RunningActivity) => boolean, timeoutMs = 120_000): Promise<RunningActivity> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const found = (await runningActivities(client, workflowId)).find(match)
    if (found) return found
    const { status } = await client.workflow.getHandle(workflowId).describe()
    if (status.name !== "RUNNING") throw new Error(`${workflowId} closed (${status.name}) before the awaited activity ran`)
    await sleep(100)
  }
  throw new Error(`no matching activity ran in ${workflowId} within ${timeoutMs} ms`)
}

/** One attempt of an activity (running, or the last one of a closed activity): its number, its worker, when it started by the server's clock. */
export interface ActivityAttempt {
  readonly attempt: number
  readonly worker: string
  readonly startedAt: number
}

/**
 * The attempt of activity `activityId` that closed, from the history of `workflowId` (Temporal
 * writes one started event per activity, for its last attempt); undefined while it has not closed.
 * Use to check that a killed worker's activity ran again.
 */
export const closedAttempt = async (client: Client, workflowId: string, activityId: string): Promise<ActivityAttempt | undefined> => {
  const history = await client.workflow.getHandle(workflowId).fetchHistory()
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId)
  const started = history.events?.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? "") === String(scheduled?.eventId ?? "-"))
  const attributes = started?.activityTaskStartedEventAttributes
  return attributes ? { attempt: attributes.attempt ?? 1, worker: attributes.identity ?? "", startedAt: tsToMs(started!.eventTime) } : undefined
}

/**
 * Waits until attempt `attempt` (or a later one) of activity `activityId` has started: read from
 * the pending activity while it runs, from the history once it closed. Polls every `everyMs`.
 */
export const untilAttemptStarts = async (client: Client, workflowId: string, activityId: string, attempt: number, timeoutMs: number, everyMs = 100): Promise<ActivityAttempt> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const described = await client.workflow.getHandle(workflowId).describe()
    const running = runningIn(workflowId, described.raw.pendingActivities).find((a) => a.activityId === activityId && a.attempt >= attempt)
    if (running) return running
    const pendingStill = (described.raw.pendingActivities ?? []).some((a) => a.activityId === activityId)
    const closed = pendingStill ? undefined : await closedAttempt(client, workflowId, activityId)
    if (closed && closed.attempt >= attempt) return closed
    if (closed) throw new Error(`activity ${activityId} of ${workflowId} closed on attempt ${closed.attempt}, before attempt ${attempt}`)
    await sleep(everyMs)
  }
  throw new Error(`attempt ${attempt} of activity ${activityId} in ${workflowId} did not start within ${timeoutMs} ms`)
}

/**
 * The records of a dataset's head version under `home`, sorted by id, each without
 * `meta.campaign` (the campaign id: the one field in which two runs of the same spec differ).
 * Use to compare a disturbed run's records with an undisturbed one's.
 */
export const committedRecords = async (home: string, dataset: string): Promise<DatasetRecord[]> => {
  const store = DatasetStore.make(storeRoot(home))
  const version = await Effect.runPromise(store.resolve(dataset))
  const records: DatasetRecord[] = []
  for await (const record of Stream.toAsyncIterable(store.readRecords(version.manifest))) {
    const { campaign: _campaign, ...meta } = record.meta ?? {}
    records.push({ ...record, meta })
  }
  return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Holds a dataset's HEAD lock as a live committer would (touching it so it never looks stale)
 * until `release()`: a commit activity then waits inside the commit, after writing its manifest
 * and before moving HEAD, which makes "kill the worker during the commit" a moment to wait for
 * rather than a race.
 */
export const holdHeadLock = (home: string, dataset: string): { release(): void } => {
  const path = storeLayout(storeRoot(home)).headLockPath(dataset)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `held-by-test.${process.pid}`, { flag: "wx" })
  const touch = setInterval(() => { const now = new Date(); utimesSync(path, now, now) }, 2_000)
  return {
    release: () => {
      clearInterval(touch)
      unlinkSync(path)
    }
  }
}
