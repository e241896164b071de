import type { ServerResponse } from "node:http"
import { IncrementalDetokenizer } from "../models/incrementalText.js"
import type { StreamedToken } from "../models/localGenerator.js"
import { type CompletionInput, type CompletionMeta, finishReason, tokenLogprob, usageOf } from "./completion.js"
import type { TextTokenizer } from "../models/tokenizer.js"

interface ChoiceState {
  readonly tokens: number[]
  readonly text: IncrementalDetokenizer
  /** characters of the choice's text already sent */
  sent: number
}

/**
 * A `chat.completion.chunk` stream written while the choices are sampled: each step's token of
 * a choice goes out as a content delta (with its log-probability when asked for). Text never
 * ends in a broken character, and a tail that could be the start of a stop string is held back
 * until the next tokens show it is not, so a stop string is never sent. `finish` sends what is
 * left of each choice, its finish reason and the usage. Use in `winnow serve` for `stream: true`.
 */
export class CompletionStream {
  private readonly choices: ChoiceState[]
  private pending: Promise<void> = Promise.resolve()
  /** Only this much of the text already sent can still hold the start of a stop string. */
  private readonly longestStop: number

  constructor(private readonly res: ServerResponse, private readonly meta: CompletionMeta, tokenizer: TextTokenizer) {
    this.longestStop = Math.max(0, ...meta.request.stop.map((stop) => stop.length))
    this.choices = Array.from({ length: meta.request.n }, () => ({ tokens: [], text: new IncrementalDetokenizer(tokenizer), sent: 0 }))
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" })
    this.choices.forEach((_, index) => this.send([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]))
  }

  /** Queues the tokens of one step; they are decoded and sent in order. */
  tokens(tokens: readonly StreamedToken[]): void {
    this.pending = this.pending.then(() => Promise.all(tokens.map((t) => this.advance(t))).then(() => undefined))
  }

  /** Sends each choice's remaining text and finish reason, then the usage (if asked for) and `[DONE]`. */
  async finish(input: CompletionInput): Promise<void> {
    await this.pending
    input.samples.forEach((sample, index) => {
      const state = this.choices[index]!
      const rest = sample.text.length > state.sent ? sample.text.slice(state.sent) : ""
      if (rest.length > 0) this.send([{ index, delta: { content: rest }, logprobs: null, finish_reason: null }])
      this.send([{ index, delta: {}, logprobs: null, finish_reason: finishReason(sample), stop_reason: input.stopReasons[index] ?? null }])
    })
    if (this.meta.request.include_usage) this.send([], { usage: usageOf(input) })
    this.res.end("data: [DONE]\n\n")
  }

  private async advance(token: StreamedToken): Promise<void> {
    const state = this.choices[token.sample]!
    state.tokens.push(token.token)
    await state.text.push(state.tokens)
    const text = state.text.text
    const from = Math.max(0, state.sent - this.longestStop)
    const safe = text.length - heldBack(text.slice(from), this.meta.request.stop)
    const delta = safe > state.sent ? text.slice(state.sent, safe) : ""
    state.sent = Math.max(state.sent, safe)
    const logprobs = this.meta.request.logprobs ? { content: [tokenLogprob(this.meta.pieces, token.token, token.logprob, token.alternatives)], refusal: null } : null
    if (delta.length > 0 || logprobs) this.send([{ index: token.sample, delta: { content: delta }, logprobs, finish_reason: null }])
  }

  private send(choices: unknown[], extra: Record<string, unknown> = {}): void {
    const chunk = {
      id: this.meta.id,
      object: "chat.completion.chunk",
      created: this.meta.created,
      model: this.meta.model,
      choices,
      ...(this.meta.request.include_usage ? { usage: null } : {}),
      ...extra
    }
    this.res.write(`data: ${JSON.stringify(chunk)}\n\n`)
  }
}

/** How many trailing characters of `text` could begin a stop string (or contain one), and so must wait. */
export const heldBack = (text: string, stops: readonly string[]): number => {
  let hold = 0
  for (const stop of stops) {
    const at = text.indexOf(stop)
    if (at >= 0) hold = Math.max(hold, text.length - at)
    for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        hold = k
        break
      }
    }
  }
  return hold
}
