import type { ActivityOptions } from "@temporalio/workflow"

const NON_RETRYABLE = [
  "WINNOW_INPUT_INVALID",
  "WINNOW_MODEL_UNSUPPORTED",
  "WINNOW_STORE_CORRUPT",
  "WINNOW_NOT_FOUND"
]

/** Long model work (generation, model-based scoring): heartbeats, a few retries. */
export const inferenceProfile: ActivityOptions = {
  startToCloseTimeout: "2 hours",
  heartbeatTimeout: "2 minutes",
  retry: { initialInterval: "2s", backoffCoefficient: 2, maximumInterval: "1 minute", maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE }
}

/** Store reads and writes: short, retried generously (writes are idempotent). */
export const storeProfile: ActivityOptions = {
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "1 minute",
  retry: { initialInterval: "1s", backoffCoefficient: 2, maximumInterval: "30s", maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE }
}
