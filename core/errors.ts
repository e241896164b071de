import * as Schema from "effect/Schema"

/**
 * One issue found in user input: which field, the value seen, what was expected.
 * Use it inside `InputInvalid` so every bad-input message has the same three parts.
 */
export const InputIssue = Schema.Struct({
  path: Schema.String,
  value: Schema.Unknown,
  expected: Schema.String
})
export type InputIssue = typeof InputIssue.Type

/** A spec, prompt file, model directory or CLI argument is wrong. Never retried; the CLI exits 2. */
export class InputInvalid extends Schema.TaggedError<InputInvalid>()("InputInvalid", {
  source: Schema.String,
  issues: Schema.Array(InputIssue)
}) {
  override get message(): string {
    return `${this.source}: ${this.issues.map(formatIssue).join("; ")}`
  }
}

/** A model directory or ONNX graph that winnow does not understand (names the input or output). */
export class ModelUnsupported extends Schema.TaggedError<ModelUnsupported>()("ModelUnsupported", {
  model: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `model ${this.model}: ${this.reason}`
  }
}

/** ONNX Runtime or a worker thread failed while running a model; may succeed on another attempt. */
export class InferenceFailed extends Schema.TaggedError<InferenceFailed>()("InferenceFailed", {
  model: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `inference on ${this.model} failed: ${this.reason}`
  }
}

/** A file-system operation on the store failed (disk full, permissions, I/O); usually transient. */
export class StoreIoFailed extends Schema.TaggedError<StoreIoFailed>()("StoreIoFailed", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `store I/O failed at ${this.path}: ${this.reason}`
  }
}

/** Stored bytes do not match their content hash, or a manifest does not parse. Never retried. */
export class StoreCorrupt extends Schema.TaggedError<StoreCorrupt>()("StoreCorrupt", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `store object ${this.path} is corrupt: ${this.reason}`
  }
}

/** A dataset name, version or tag that does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  kind: Schema.String,
  name: Schema.String,
  hint: Schema.String
}) {
  override get message(): string {
    return `${this.kind} not found: ${this.name}${this.hint ? ` (${this.hint})` : ""}`
  }
}

/** A compare-and-swap on a dataset ref kept losing to concurrent writers; retrying is safe. */
export class CommitConflict extends Schema.TaggedError<CommitConflict>()("CommitConflict", {
  dataset: Schema.String,
  attempts: Schema.Number
}) {
  override get message(): string {
    return `commit to ${this.dataset} lost ${this.attempts} compare-and-swap races`
  }
}

/** The Temporal server or its CLI cannot be reached, found or built; the message says how to get it. */
export class TemporalUnavailable extends Schema.TaggedError<TemporalUnavailable>()("TemporalUnavailable", {
  reason: Schema.String,
  remedy: Schema.String
}) {
  override get message(): string {
    return `${this.reason}. ${this.remedy}`
  }
}

/** The closed set of winnow errors. Add a member here and the compiler shows every place that must decide about it. */
export type WinnowError =
  | InputInvalid
  | ModelUnsupported
  | InferenceFailed
  | StoreIoFailed
  | StoreCorrupt
  | NotFound
  | CommitConflict
  | TemporalUnavailable

/** Stable codes users can match on in logs and in Temporal failure types. */
export const errorCode = (error: WinnowError): string => {
  switch (error._tag) {
    case "InputInvalid": return "WINNOW_INPUT_INVALID"
    case "ModelUnsupported": return "WINNOW_MODEL_UNSUPPORTED"
    case "InferenceFailed": return "WINNOW_INFERENCE_FAILED"
    case "StoreIoFailed": return "WINNOW_STORE_IO"
    case "StoreCorrupt": return "WINNOW_STORE_CORRUPT"
    case "NotFound": return "WINNOW_NOT_FOUND"
    case "CommitConflict": return "WINNOW_COMMIT_CONFLICT"
    case "TemporalUnavailable": return "WINNOW_TEMPORAL_UNAVAILABLE"
  }
}

/** The single place that decides whether Temporal should retry an activity that failed with this error. */
export const isRetryable = (error: WinnowError): boolean => {
  switch (error._tag) {
    case "InferenceFailed":
    case "StoreIoFailed":
    case "CommitConflict":
    case "TemporalUnavailable":
      return true
    case "InputInvalid":
    case "ModelUnsupported":
    case "StoreCorrupt":
    case "NotFound":
      return false
  }
}

/** Exit code a CLI command returns for this error: 2 for bad input, 1 otherwise. */
export const exitCodeOf = (error: WinnowError): 1 | 2 => {
  switch (error._tag) {
    case "InputInvalid":
    case "ModelUnsupported":
    case "NotFound":
      return 2
    default:
      return 1
  }
}

const WINNOW_TAGS = new Set([
  "InputInvalid", "ModelUnsupported", "InferenceFailed", "StoreIoFailed",
  "StoreCorrupt", "NotFound", "CommitConflict", "TemporalUnavailable"
])

/** True for any member of the closed winnow error set (use at boundaries that receive `unknown`). */
export const isWinnowError = (u: unknown): u is WinnowError =>
  typeof u === "object" && u !== null && WINNOW_TAGS.has((u as { _tag?: string })._tag ?? "")

/** Renders one issue as `field: got <value>, expected <what>`. */
export const formatIssue = (issue: InputIssue): string =>
  `${issue.path || "(root)"}: got ${renderValue(issue.value)}, expected ${issue.expected}`

/** Shortcut for the common one-issue `InputInvalid`. */
export const inputInvalid = (source: string, path: string, value: unknown, expected: string): InputInvalid =>
  new InputInvalid({ source, issues: [{ path, value, expected }] })

const renderValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const text = typeof value === "string" ? JSON.stringify(value) : safeJson(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * Rebuilds a winnow error from its plain-object form (after crossing a worker thread or a
 * process boundary). Anything that is not a winnow error becomes `InferenceFailed` naming `where`.
 */
export const reviveError = (value: unknown, where: string): WinnowError => {
  const v = (value ?? {}) as Record<string, unknown> & { _tag?: string }
  const s = (key: string) => String(v[key] ?? "")
  switch (v._tag) {
    case "InputInvalid": return new InputInvalid({ source: s("source"), issues: (v.issues as InputIssue[]) ?? [] })
    case "ModelUnsupported": return new ModelUnsupported({ model: s("model"), reason: s("reason") })
    case "InferenceFailed": return new InferenceFailed({ model: s("model"), reason: s("reason") })
    case "StoreIoFailed": return new StoreIoFailed({ path: s("path"), reason: s("reason") })
    case "StoreCorrupt": return new StoreCorrupt({ path: s("path"), reason: s("reason") })
    case "NotFound": return new NotFound({ kind: s("kind"), name: s("name"), hint: s("hint") })
    case "CommitConflict": return new CommitConflict({ dataset: s("dataset"), attempts: Number(v.attempts ?? 0) })
    case "TemporalUnavailable": return new TemporalUnavailable({ reason: s("reason"), remedy: s("remedy") })
    default: return new InferenceFailed({ model: where, reason: String(v.message ?? value) })
  }
}

/** Plain-object form of an error, safe to post to another thread or serialise as JSON. */
export const errorToPlain = (error: unknown): Record<string, unknown> => {
  if (isWinnowError(error)) return { ...(error as unknown as Record<string, unknown>), _tag: error._tag, message: error.message }
  const e = error as { message?: string; stack?: string }
  return { message: e?.message ?? String(error), stack: e?.stack }
}
