/** How winnow treats one kind of error: its stable code, whether Temporal retries it, the CLI's exit code. */
export interface ErrorPolicy {
  readonly code: `WINNOW_${string}`
  readonly retryable: boolean
  readonly exit: 1 | 2
}

/**
 * The single place that decides, for every member of the closed error set, its code, whether an
 * activity failing with it is retried, and the exit code of a command failing with it. Keyed by
 * the errors' tags; `core/errors.ts` checks its classes against these keys both ways, so adding
 * an error without deciding about it here does not compile.
 * Dependency-free, so workflow code (retry profiles) and the CLI read the same table.
 */
export const ERROR_POLICY = {
  InputInvalid: { code: "WINNOW_INPUT_INVALID", retryable: false, exit: 2 },
  ModelUnsupported: { code: "WINNOW_MODEL_UNSUPPORTED", retryable: false, exit: 2 },
  InferenceFailed: { code: "WINNOW_INFERENCE_FAILED", retryable: true, exit: 1 },
  StoreIoFailed: { code: "WINNOW_STORE_IO", retryable: true, exit: 1 },
  StoreCorrupt: { code: "WINNOW_STORE_CORRUPT", retryable: false, exit: 1 },
  NotFound: { code: "WINNOW_NOT_FOUND", retryable: false, exit: 2 },
  CommitConflict: { code: "WINNOW_COMMIT_CONFLICT", retryable: true, exit: 1 },
  TemporalUnavailable: { code: "WINNOW_TEMPORAL_UNAVAILABLE", retryable: true, exit: 1 },
  TrainerFailed: { code: "WINNOW_TRAINER_FAILED", retryable: false, exit: 1 },
  ReviewDeadlinePassed: { code: "WINNOW_REVIEW_DEADLINE", retryable: false, exit: 1 }
} as const satisfies Readonly<Record<string, ErrorPolicy>>

/** A winnow error's tag. */
export type WinnowErrorTag = keyof typeof ERROR_POLICY

const POLICIES: ReadonlyArray<ErrorPolicy> = Object.values(ERROR_POLICY)

/** Codes of the errors an activity must not retry: every workflow retry profile lists exactly these. */
export const NON_RETRYABLE_CODES: readonly string[] = POLICIES.filter((p) => !p.retryable).map((p) => p.code)

/** The policy of a failure recorded under `code` (a Temporal failure's type), if it is one of winnow's. */
export const policyOfCode = (code: string | undefined): ErrorPolicy | undefined => POLICIES.find((p) => p.code === code)
