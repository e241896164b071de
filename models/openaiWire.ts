import { Result, Schema } from "effect"

/**
 * The chat-completions wire format as winnow reads it from servers: only the fields winnow uses,
 * each optional or nullable where some server (vLLM, SGLang, llama.cpp, Ollama) leaves it out.
 */
const TokenLogprob = Schema.Struct({
  token: Schema.optionalKey(Schema.String),
  logprob: Schema.Number
})

const Choice = Schema.Struct({
  index: Schema.optionalKey(Schema.Number),
  message: Schema.optionalKey(Schema.NullOr(Schema.Struct({ content: Schema.optionalKey(Schema.NullOr(Schema.String)) }))),
  finish_reason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  stop_reason: Schema.optionalKey(Schema.Unknown),
  logprobs: Schema.optionalKey(Schema.NullOr(Schema.Struct({ content: Schema.optionalKey(Schema.NullOr(Schema.Array(TokenLogprob))) })))
})

const Usage = Schema.Struct({
  prompt_tokens: Schema.optionalKey(Schema.NullOr(Schema.Number)),
  completion_tokens: Schema.optionalKey(Schema.NullOr(Schema.Number))
})

/** A chat-completions response body. */
export const ChatCompletionBody = Schema.Struct({
  choices: Schema.Array(Choice),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})
export type ChatCompletionBody = typeof ChatCompletionBody.Type
export type ChatChoice = ChatCompletionBody["choices"][number]

const decodeBody = Schema.decodeUnknownResult(ChatCompletionBody)

/** Parses a chat-completions response; the failure names what did not match. */
export const parseChatCompletion = (text: string): Result.Result<ChatCompletionBody, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Result.fail(`the body is not JSON: ${JSON.stringify(text.slice(0, 120))}`)
  }
  const decoded = decodeBody(json)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success)
    : Result.fail(`the body is not a chat completion: ${String(decoded.failure).slice(0, 200)}`)
}

/** What an error body says: OpenAI and vLLM `{error: {message, param, code}}`, Ollama `{error: "..."}`, or plain text. */
export interface ServerError {
  readonly message: string
  readonly param?: string
}

/** Reads the message (and `param`, when given) of an error response body. */
export const parseServerError = (text: string): ServerError => {
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown }
    const error = json.error
    if (typeof error === "string") return { message: error }
    if (error && typeof error === "object") {
      const e = error as { message?: unknown; param?: unknown }
      return { message: String(e.message ?? JSON.stringify(error)), ...(typeof e.param === "string" ? { param: e.param } : {}) }
    }
    if (typeof json.message === "string") return { message: json.message }
    if (json.detail !== undefined) return { message: typeof json.detail === "string" ? json.detail : JSON.stringify(json.detail) }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: text.trim().slice(0, 300) || "(empty body)" }
}

/** The error body winnow serve answers with, in OpenAI's shape. */
export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string
    readonly type: "invalid_request_error" | "not_found_error" | "server_error"
    readonly param: string | null
    readonly code: string | null
  }
}
