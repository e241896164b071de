import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ERROR_POLICY, type WinnowErrorTag } from "./errorPolicy.js"

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

/**
 * ONNX Runtime, a worker thread or a generation server failed while running a model; may succeed
 * on another attempt, after `retryAfterMs` when the server said how long to wait.
 */
export class InferenceFailed extends Schema.TaggedError<InferenceFailed>()("InferenceFailed", {
  model: Schema.String,
  reason: Schema.String,
  retryAfterMs: Schema.optionalKey(Schema.Number)
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

/** A trainer exited non-zero, was killed, or wrote no model; `output` holds its last lines. */
export class TrainerFailed extends Schema.TaggedError<TrainerFailed>()("TrainerFailed", {
  trainer: Schema.String,
  reason: Schema.String,
  output: Schema.String
}) {
  override get message(): string {
    return `trainer ${this.trainer} failed: ${this.reason}${this.output ? `\n--- last lines of its output ---\n${this.output}` : ""}`
  }
}

/**
 * A round's review deadline passed before enough of its sample was decided, under
 * `review.on_deadline: fail`: the round was not committed. Raised by the campaign workflow.
 */
export class ReviewDeadlinePassed extends Schema.TaggedError<ReviewDeadlinePassed>()("ReviewDeadlinePassed", {
  round: Schema.Number,
  decided: Schema.Number,
  required: Schema.Number
}) {
  override get message(): string {
    return `round ${this.round}'s review deadline passed with ${this.decided} records decided, ${this.required} required`
  }
}

/**
 * Every member of the closed set of winnow errors, by tag: the one list of them. Add a class here
 * and the compiler shows every place that must decide about it (`ERROR_POLICY` first).
 */
const ERROR_CLASSES = {
  InputInvalid, ModelUnsupported, InferenceFailed, StoreIoFailed, StoreCorrupt, NotFound, CommitConflict, TemporalUnavailable, TrainerFailed, ReviewDeadlinePassed
} as const satisfies { readonly [Tag in WinnowErrorTag]: { readonly prototype: { readonly _tag: Tag } } }

/** The closed set of winnow errors. */
export type WinnowError = InstanceType<(typeof ERROR_CLASSES)[keyof typeof ERROR_CLASSES]>

/** Stable codes users can match on in logs and in Temporal failure types. */
export const errorCode = (error: WinnowError): string => ERROR_POLICY[error._tag].code

/** Whether Temporal should retry an activity that failed with this error (decided in `ERROR_POLICY`). */
export const isRetryable = (error: WinnowError): boolean => ERROR_POLICY[error._tag].retryable

/** Exit code a CLI command returns for this error: 2 for bad input, 1 otherwise (decided in `ERROR_POLICY`). */
export const exitCodeOf = (error: WinnowError): 1 | 2 => ERROR_POLICY[error._tag].exit

/** How long to wait before retrying, when the error says (a server's `Retry-After`); else the retry profile decides. */
export const retryDelayOf = (error: WinnowError): number | undefined =>
  error._tag === "InferenceFailed" ? error.retryAfterMs : undefined

/** True for any member of the closed winnow error set (use at boundaries that receive `unknown`). */
export const isWinnowError = (u: unknown): u is WinnowError => {
  const tag = typeof u === "object" && u !== null ? (u as { _tag?: unknown })._tag : undefined
  return typeof tag === "string" && Object.hasOwn(ERROR_CLASSES, tag)
}

/**
 * Keeps a winnow error as the typed failure and turns anything else into a defect: a bug stays a
 * bug (a plain, retryable Temporal failure), never labelled as a domain error.
 */
export const winnowOrDie = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, WinnowError> =>
  Effect.catch(effect, (e) => (isWinnowError(e) ? Effect.fail(e) : Effect.die(e)))

/** Runs code that throws winnow errors (model directories, spec checks) as an effect. */
export const attempt = <A>(run: () => A): Effect.Effect<A, WinnowError> =>
  winnowOrDie(Effect.try({ try: run, catch: (e) => e }))

/** Awaits a promise that rejects with winnow errors as an effect; the signal aborts it on interruption. */
export const attemptPromise = <A>(run: (signal: AbortSignal) => PromiseLike<A>): Effect.Effect<A, WinnowError> =>
  winnowOrDie(Effect.tryPromise({ try: run, catch: (e) => e }))

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
  const tag = v._tag
  if (typeof tag === "string" && Object.hasOwn(ERROR_CLASSES, tag)) {
    const { _tag: _, message: _m, stack: _s, ...fields } = v
    try {
      return new ERROR_CLASSES[tag as keyof typeof ERROR_CLASSES](fields as never)
    } catch {
      // fields that do not fit the class: reported below as what it is, an inference failure
    }
  }
  return new InferenceFailed({ model: where, reason: String(v.message ?? value) })
}

/** Plain-object form of an error, safe to post to another thread or serialise as JSON. */
export const errorToPlain = (error: unknown): Record<string, unknown> => {
  if (isWinnowError(error)) return { ...(error as unknown as Record<string, unknown>), _tag: error._tag, message: error.message }
  const e = error as { message?: string; stack?: string }
  return { message: e?.message ?? String(error), stack: e?.stack }
}
