import { Context as ActivityContext } from "@temporalio/activity"
import { ApplicationFailure } from "@temporalio/common"
import { Cause, Context, Effect, Exit } from "effect"
import { errorCode, errorToPlain, isRetryable, isWinnowError, retryDelayOf, type WinnowError } from "../core/errors.js"

/** How often a long activity heartbeats while its effect runs: every 5 s, or thrice per heartbeat timeout if that is shorter. */
const heartbeatEvery = (timeoutMs: number | undefined): number => Math.max(200, Math.min(5_000, (timeoutMs ?? 15_000) / 3))

/**
 * What a long activity reports as it goes (a trainer's step and loss): sent as the activity's
 * heartbeat details, so the Web UI and `campaign status` show it while the activity runs.
 */
export class ActivityProgress extends Context.Service<ActivityProgress, {
  report(details: Record<string, unknown>): void
}>()("winnow/activities/ActivityProgress") {}

/**
 * Runs an activity's effect at the Temporal boundary. Typed winnow errors become
 * `ApplicationFailure`s whose type is the stable error code and whose retryability is decided
 * by `isRetryable` — the one place that decides; an error that says how long to wait (a server's
 * `Retry-After`) sets the next retry's delay, so Temporal is the only retry layer. Heartbeats
 * while the effect runs, with the latest progress it reported; when Temporal cancels the activity
 * (delivered with a heartbeat), the effect is interrupted and the activity reports the cancellation.
 */
export const runActivity = async <A>(effect: Effect.Effect<A, WinnowError, ActivityProgress>): Promise<A> => {
  const context = ActivityContext.current()
  let latest: Record<string, unknown> | undefined
  const beat = () => (latest === undefined ? context.heartbeat() : context.heartbeat(latest))
  const timer = setInterval(beat, heartbeatEvery(context.info.heartbeatTimeoutMs))
  const progress = ActivityProgress.of({ report: (details) => { latest = details; beat() } })
  try {
    const signal = context.cancellationSignal
    const exit = await Effect.runPromiseExit(Effect.provideService(effect, ActivityProgress, progress), { signal })
    if (Exit.isSuccess(exit)) return exit.value
    if (signal.aborted) throw signal.reason
    throw toFailure(Cause.squash(exit.cause))
  } finally {
    clearInterval(timer)
  }
}

/** Maps anything an activity failed with to the failure Temporal records. */
export const toFailure = (error: unknown): Error => {
  if (isWinnowError(error)) {
    const delay = retryDelayOf(error)
    return ApplicationFailure.create({
      message: error.message,
      type: errorCode(error),
      nonRetryable: !isRetryable(error),
      details: [errorToPlain(error)],
      ...(delay !== undefined ? { nextRetryDelay: delay } : {})
    })
  }
  return error instanceof Error ? error : new Error(String(error))
}
