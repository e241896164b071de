import { ApplicationFailure, TemporalFailure, WorkflowFailedError } from "@temporalio/client"
import { policyOfCode } from "../core/errorPolicy.js"
import { errorCode, exitCodeOf, formatIssue, isWinnowError, type WinnowError } from "../core/errors.js"

/** A failure to report to the user: its message and the exit code it maps to. */
export interface Reported {
  readonly message: string
  readonly code: string
  readonly exit: 1 | 2
  /** For bad input: each field, the value seen, what was expected. */
  readonly issues?: ReadonlyArray<{ readonly path: string; readonly value: unknown; readonly expected: string }>
}

/** The innermost `ApplicationFailure` of a Temporal failure chain (the activity's own error). */
const rootApplicationFailure = (error: unknown): ApplicationFailure | undefined => {
  let current: unknown = error instanceof WorkflowFailedError ? error.cause : error
  let found: ApplicationFailure | undefined
  while (current instanceof TemporalFailure) {
    if (current instanceof ApplicationFailure) found = current
    current = current.cause
  }
  return found
}

/** Turns anything a command failed with into a message and an exit code. */
export const reportFailure = (error: unknown): Reported => {
  if (isWinnowError(error)) return describeWinnow(error)
  const app = rootApplicationFailure(error)
  const policy = policyOfCode(app?.type ?? undefined)
  if (app && policy) {
    const detail = app.details?.[0] as { issues?: Array<{ path: string; value: unknown; expected: string }> } | undefined
    const message = detail?.issues ? detail.issues.map(formatIssue).join("\n") : app.message
    return { message, code: policy.code, exit: policy.exit, ...(detail?.issues ? { issues: detail.issues } : {}) }
  }
  return { message: (error as Error)?.message ?? String(error), code: "WINNOW_FAILED", exit: 1 }
}

const describeWinnow = (error: WinnowError): Reported => {
  const message = error._tag === "InputInvalid"
    ? `${error.source}:\n${error.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`
    : error.message
  return { message, code: errorCode(error), exit: exitCodeOf(error), ...(error._tag === "InputInvalid" ? { issues: error.issues } : {}) }
}
