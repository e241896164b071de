import type { ActivityOptions } from "@temporalio/workflow"
import { NON_RETRYABLE_CODES } from "../core/errorPolicy.js"

const NON_RETRYABLE = [...NON_RETRYABLE_CODES]

/**
 * Replaced by a number at bundle time when the worker was started with
 * `WINNOW_HEARTBEAT_TIMEOUT_SECONDS` (see `worker/workflowBundle.ts`); otherwise never declared.
 * Only for measuring recovery (`bench/recovery.ts`): production leaves it unset.
 */
declare const WINNOW_HEARTBEAT_TIMEOUT_SECONDS: number | undefined

/**
 * How long a silent activity is waited for before it runs again on another worker. Activities
 * heartbeat three times within it (`activities/boundary.ts`), inference runs in worker threads,
 * so only a dead worker (or a frozen one) misses it: a killed worker's work resumes in seconds.
 */
const HEARTBEAT_TIMEOUT = typeof WINNOW_HEARTBEAT_TIMEOUT_SECONDS === "number" ? `${WINNOW_HEARTBEAT_TIMEOUT_SECONDS} seconds` : "10 seconds"

/** Long model work (generation, model-based scoring): heartbeats, a few retries. */
export const inferenceProfile: ActivityOptions = {
  startToCloseTimeout: "2 hours",
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: "2s", backoffCoefficient: 2, maximumInterval: "1 minute", maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE }
}

/** Store reads and writes: short, retried generously (writes are idempotent). */
export const storeProfile: ActivityOptions = {
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: "1s", backoffCoefficient: 2, maximumInterval: "30s", maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE }
}

/**
 * Generation on an OpenAI-compatible server: the inference profile with the backend's
 * `max_retries`. The activity's retries are the only retry layer; a 429's `Retry-After` sets the
 * delay before the next attempt.
 */
export const httpGenerationProfile = (maxRetries: number): ActivityOptions => ({
  ...inferenceProfile,
  retry: { ...inferenceProfile.retry, maximumAttempts: maxRetries + 1 }
})

/**
 * Training (the improve step): as long as the spec allows, a heartbeat timeout after which a
 * silent trainer worker is presumed dead and the step runs again elsewhere (resuming from its
 * checkpoints), on the spec's trainer queue.
 */
export const trainingProfile = (improve: { readonly timeout_hours: number; readonly heartbeat_seconds: number; readonly task_queue?: string }): ActivityOptions => ({
  startToCloseTimeout: `${improve.timeout_hours} hours`,
  heartbeatTimeout: `${improve.heartbeat_seconds} seconds`,
  retry: { initialInterval: "5s", backoffCoefficient: 2, maximumInterval: "5 minutes", maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  ...(improve.task_queue !== undefined ? { taskQueue: improve.task_queue } : {})
})
