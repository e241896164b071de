import { Result, Schema } from "effect"
import { LIMITS } from "../core/defaults.js"
import { inputIssuesOf } from "../core/schemaIssues.js"
import type { ChatMessage } from "../models/tokenizer.js"

const int = (min: number, max: number) =>
  Schema.Finite.pipe(Schema.check(Schema.isInt(), Schema.isBetween({ minimum: min, maximum: max })))
const between = (min: number, max: number) => Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: min, maximum: max })))
const nullable = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })

const Message = Schema.Struct({
  role: Schema.Literals(["system", "developer", "user", "assistant"]),
  content: Schema.Union([Schema.String, Schema.Array(TextPart)]),
  name: Schema.optionalKey(Schema.String)
})

/** Most stop strings one request may carry. */
const MAX_STOP_STRINGS = 16

/**
 * The chat-completions request `winnow serve` accepts: OpenAI's fields plus vLLM's `top_k`,
 * `min_p` and `repetition_penalty`. Other fields are ignored, except those in `UNSUPPORTED`.
 */
const ChatRequest = Schema.Struct({
  model: Schema.String.pipe(Schema.check(Schema.isNonEmpty())),
  messages: Schema.Array(Message).pipe(Schema.check(Schema.isMinLength(1))),
  n: nullable(int(1, LIMITS.maxSamplesPerPrompt)),
  temperature: nullable(between(0, 2)),
  top_p: nullable(between(0, 1)),
  top_k: nullable(int(-1, 1_000_000)),
  min_p: nullable(between(0, 1)),
  repetition_penalty: nullable(between(0.01, 10)),
  max_tokens: nullable(int(1, LIMITS.maxNewTokens)),
  max_completion_tokens: nullable(int(1, LIMITS.maxNewTokens)),
  seed: nullable(Schema.Finite.pipe(Schema.check(Schema.isInt()))),
  stop: nullable(Schema.Union([Schema.String, Schema.Array(Schema.String).pipe(Schema.check(Schema.isMaxLength(MAX_STOP_STRINGS)))])),
  logprobs: nullable(Schema.Boolean),
  top_logprobs: nullable(int(0, 20)),
  stream: nullable(Schema.Boolean),
  stream_options: nullable(Schema.Struct({ include_usage: Schema.optionalKey(Schema.NullOr(Schema.Boolean)) })),
  presence_penalty: nullable(between(-2, 2)),
  frequency_penalty: nullable(between(-2, 2))
})

/** Request fields winnow serve refuses rather than silently ignoring. */
const UNSUPPORTED = ["tools", "tool_choice", "functions", "function_call", "response_format", "logit_bias", "audio", "modalities", "prediction"] as const

/** A validated request with OpenAI's defaults filled in. */
export interface ServeRequest {
  readonly model: string
  readonly messages: ChatMessage[]
  readonly n: number
  readonly temperature: number
  readonly top_p: number
  readonly top_k: number
  readonly min_p: number
  readonly repetition_penalty: number
  /** undefined: the server picks (its default, bounded by the context left). */
  readonly max_tokens: number | undefined
  readonly seed: number | undefined
  readonly stop: string[]
  readonly logprobs: boolean
  /** Most likely tokens reported per step with `logprobs` (0–20). */
  readonly top_logprobs: number
  readonly stream: boolean
  readonly include_usage: boolean
}

/** Why a request was refused: OpenAI's `param` and a message naming the value and what was expected. */
export interface RequestProblem {
  readonly param: string | null
  readonly message: string
}

const decode = Schema.decodeUnknownResult(ChatRequest, { errors: "all" })

/** Validates a parsed request body; the failure names the first bad field. */
export const parseServeRequest = (body: unknown): Result.Result<ServeRequest, RequestProblem> => {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return Result.fail({ param: null, message: "the request body must be a JSON object" })
  }
  const record = body as Record<string, unknown>
  for (const field of UNSUPPORTED) {
    if (record[field] !== undefined && record[field] !== null) return Result.fail({ param: field, message: `${field}: not supported by winnow serve` })
  }
  const decoded = decode(body)
  if (Result.isFailure(decoded)) {
    const [issue] = inputIssuesOf(decoded.failure.issue, body)
    const path = issue?.path ?? ""
    return Result.fail({ param: path || null, message: `${path || "(body)"}: got ${render(issue?.value)}, expected ${issue?.expected ?? "a valid request"}` })
  }
  const r = decoded.success
  for (const field of ["presence_penalty", "frequency_penalty"] as const) {
    if ((r[field] ?? 0) !== 0) return Result.fail({ param: field, message: `${field}: got ${r[field]}, expected 0 (not supported by winnow serve; use repetition_penalty)` })
  }
  if ((r.top_logprobs ?? 0) > 0 && r.logprobs !== true) {
    return Result.fail({ param: "top_logprobs", message: "top_logprobs: set only together with logprobs: true" })
  }
  const stop = r.stop === undefined || r.stop === null ? [] : typeof r.stop === "string" ? [r.stop] : [...r.stop]
  return Result.succeed({
    model: r.model,
    messages: r.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("")
    })),
    n: r.n ?? 1,
    temperature: r.temperature ?? 1,
    top_p: r.top_p ?? 1,
    top_k: Math.max(0, r.top_k ?? 0),
    min_p: r.min_p ?? 0,
    repetition_penalty: r.repetition_penalty ?? 1,
    max_tokens: r.max_completion_tokens ?? r.max_tokens ?? undefined,
    seed: r.seed ?? undefined,
    stop: stop.filter((s) => s.length > 0),
    logprobs: r.logprobs === true,
    top_logprobs: r.top_logprobs ?? 0,
    stream: r.stream === true,
    include_usage: r.stream_options?.include_usage === true
  })
}

const render = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
