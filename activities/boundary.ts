import { Context as ActivityContext } from "@temporalio/activity"
import { ApplicationFailure } from "@temporalio/common"
import { Cause, Effect, Exit } from "effect"
import { errorCode, errorToPlain, isRetryable, isWinnowError, retryDelayOf, type WinnowError } from "../core/errors.js"

/** How often a long activity heartbeats while its effect runs. */
const HEARTBEAT_MS = 5_000

/**
 * Runs an activity's effect at the Temporal boundary. Typed winnow errors become
 * `ApplicationFailure`s whose type is the stable error code and whose retryability is decided
 * by `isRetryable` — the one place that decides; an error that says how long to wait (a server's
 * `Retry-After`) sets the next retry's delay, so Temporal is the only retry layer. Heartbeats while the effect runs; when Temporal
 * cancels the activity (delivered with a heartbeat), the effect is interrupted and the activity
 * reports the cancellation.
 */
export const runActivity = async <A>(effect: Effect.Effect<A, WinnowError>): Promise<A> => {
  const context = ActivityContext.current()
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_MS)
  try {
    const signal = context.cancellationSignal
    const exit = await Effect.runPromiseExit(effect, { signal })
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
