import { randomBytes } from "node:crypto"
import type { SampleText } from "../models/localGenerator.js"
import type { TokenAlternative } from "../models/sampling.js"
import type { TokenPieces } from "./tokenPieces.js"
import type { ServeRequest } from "./request.js"

/** A seed for requests that bring none. */
export const randomSeed = (): number => randomBytes(4).readUInt32LE(0)

/** What an answer knows before sampling: its id and time, the request, the token pieces for logprobs. */
export interface CompletionMeta {
  readonly id: string
  readonly created: number
  readonly model: string
  readonly request: ServeRequest
  readonly pieces: TokenPieces
}

/** Everything one answer is made from. */
export interface CompletionInput extends CompletionMeta {
  readonly promptTokens: number
  readonly samples: readonly SampleText[]
  /** The stop string each sample ended on (null when it ended otherwise), by sample. */
  readonly stopReasons: ReadonlyArray<string | null>
}

/** A new completion id. */
export const completionId = (): string => `chatcmpl-${randomBytes(12).toString("hex")}`

/** OpenAI's finish reason of a sample: an EOS or a stop string are both "stop". */
export const finishReason = (sample: SampleText): "stop" | "length" => (sample.finish === "length" ? "length" : "stop")

const pieceLogprob = (pieces: TokenPieces, id: number | undefined, logprob: number) => {
  const piece = id === undefined ? { token: "", bytes: [] as number[] } : pieces.piece(id)
  return { token: piece.token, logprob: Number.isFinite(logprob) ? logprob : -9999, bytes: piece.bytes }
}

/** One entry of `logprobs.content`: the token's text, bytes and log-probability, and the step's most likely tokens when asked for. */
export const tokenLogprob = (pieces: TokenPieces, id: number | undefined, logprob: number, alternatives: readonly TokenAlternative[] = []) => ({
  ...pieceLogprob(pieces, id, logprob),
  top_logprobs: alternatives.map((a) => pieceLogprob(pieces, a.token, a.logprob))
})

const logprobsOf = (input: CompletionInput, sample: SampleText) => {
  if (!input.request.logprobs) return null
  return { content: sample.logprobs.map((logprob, i) => tokenLogprob(input.pieces, sample.tokens?.[i], logprob, sample.alternatives?.[i])), refusal: null }
}

/** The `usage` object: prompt tokens once, completion tokens summed over the choices. */
export const usageOf = (input: CompletionInput) => {
  const completion = input.samples.reduce((sum, s) => sum + s.tokenCount, 0)
  return { prompt_tokens: input.promptTokens, completion_tokens: completion, total_tokens: input.promptTokens + completion }
}

/** The `chat.completion` object of a non-streaming answer. */
export const completionBody = (input: CompletionInput): Record<string, unknown> => ({
  id: input.id,
  object: "chat.completion",
  created: input.created,
  model: input.model,
  choices: input.samples.map((sample, index) => ({
    index,
    message: { role: "assistant", content: sample.text, refusal: null },
    logprobs: logprobsOf(input, sample),
    finish_reason: finishReason(sample),
    stop_reason: input.stopReasons[index] ?? null
  })),
  usage: usageOf(input)
})
