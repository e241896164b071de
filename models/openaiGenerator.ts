import { Effect, Result, Semaphore } from "effect"
import { InferenceFailed, inputInvalid, type WinnowError } from "../core/errors.js"
import { canonicalJson, sha256 } from "../core/hash.js"
import type { FinishReason } from "./generate.js"
import type { GenerationParams, SampleText } from "./localGenerator.js"
import { AdaptiveRateLimiter, type RateLimits } from "./rateLimiter.js"
import { HttpAgents, type HttpReply, retryAfterMs, TransportError } from "./openaiHttp.js"
import { type ChatChoice, type ChatCompletionBody, parseChatCompletion, parseServerError } from "./openaiWire.js"
import type { ChatMessage } from "./tokenizer.js"

/**
 * What the client needs to know of a server: the spec's `generator.backend` with `type: openai`
 * (validated by the spec schema) fits it.
 */
export interface OpenAIServerConfig {
  readonly base_url: string
  readonly model: string
  readonly api_key_env?: string
  readonly concurrency: number
  readonly timeout_ms: number
  readonly logprobs: boolean
  readonly extended_sampling: boolean
  /** What the server allows per minute; requests wait for it, and slow down after a 429. */
  readonly rate_limit?: RateLimits
}

/** One prompt for an HTTP backend: its conversation and one integer seed per sample (n = seeds.length). */
export interface OpenAIPrompt {
  readonly messages: readonly ChatMessage[]
  readonly seeds: readonly number[]
}

/** Hooks of an OpenAI-compatible generator. */
export interface OpenAIGeneratorHooks {
  readonly onFallback?: (reason: string) => void
}

/** Lineage hash of a model behind an HTTP server: sha256 of canonical JSON {base_url, model}. */
export const httpModelHash = (backend: Pick<OpenAIServerConfig, "base_url" | "model">): string =>
  sha256(canonicalJson({ base_url: normalizeBaseUrl(backend.base_url), model: backend.model }))

const normalizeBaseUrl = (url: string): string => url.replace(/\/+$/, "")

/** One exchange: a chat completion, or a status that retrying cannot fix (the caller maps it). */
type Exchange = { readonly ok: true; readonly body: ChatCompletionBody } | { readonly ok: false; readonly reply: HttpReply }

/**
 * The sampling fields beyond OpenAI's (vLLM's `top_k`, `min_p`, `repetition_penalty`), sent with
 * `extended_sampling` and dropped for a server that refuses them.
 */
const EXTENDED_FIELDS = ["top_k", "min_p", "repetition_penalty"] as const

/**
 * Most likely tokens asked for per step with `logprobs`: llama.cpp's server returns no
 * log-probabilities unless `top_logprobs` is above 0; OpenAI and vLLM accept 1 as well.
 */
const TOP_LOGPROBS = 1

/**
 * Samples responses from an OpenAI-compatible chat-completions server (vLLM, SGLang, llama.cpp,
 * Ollama, `winnow serve`): one request with `n` per prompt, or N requests with n = 1 and distinct
 * seeds for servers that reject or ignore `n > 1` (remembered once seen). A server that refuses
 * the extended sampling fields (a 400 or 422 naming one) is asked again without them, and from
 * then on never sent them (remembered and reported once). Bounded concurrency and
 * a time limit per request. It does not retry: a 5xx, 408, 429, dropped connection or garbled
 * body fails with a retryable `InferenceFailed` (carrying the server's `Retry-After`), and the
 * activity's retry policy is the one retry layer. Use one instance per configured server.
 */
export class OpenAIGenerator {
  private readonly agents: HttpAgents
  private readonly permits: Semaphore.Semaphore
  private readonly endpoint: URL
  private readonly limiter: AdaptiveRateLimiter | undefined
  private nUnsupported = false
  private extendedRefused = false

  constructor(
    readonly config: OpenAIServerConfig,
    private readonly apiKey?: string,
    private readonly hooks: OpenAIGeneratorHooks = {}
  ) {
    this.agents = new HttpAgents(config.concurrency)
    this.permits = Semaphore.makeUnsafe(config.concurrency)
    this.limiter = config.rate_limit ? new AdaptiveRateLimiter(config.rate_limit) : undefined
    this.endpoint = new URL(`${normalizeBaseUrl(config.base_url)}/chat/completions`)
  }

  /** Builds a generator, reading the API key from the variable `api_key_env` names (bad config → InputInvalid). */
  static fromSpec(config: OpenAIServerConfig, env: NodeJS.ProcessEnv, hooks?: OpenAIGeneratorHooks): Effect.Effect<OpenAIGenerator, WinnowError> {
    const name = config.api_key_env
    const key = name === undefined ? undefined : env[name]
    if (name !== undefined && !key) {
      return Effect.fail(inputInvalid("generator.backend", "generator.backend.api_key_env", name, "the name of an environment variable that is set (and not empty) on the worker"))
    }
    return Effect.sync(() => new OpenAIGenerator(config, key, hooks))
  }

  /** The share of `rate_limit` this generator allows now (1 without a limit or before any 429). */
  get rateShare(): number {
    return this.limiter?.rateShare ?? 1
  }

  /** True once the server has shown it does not give several choices per request. */
  get splitsRequests(): boolean {
    return this.nUnsupported
  }

  /** True once the server has refused the extended sampling fields (they are no longer sent). */
  get dropsExtendedSampling(): boolean {
    return this.extendedRefused
  }

  /** Samples every prompt's responses; results are ordered by prompt, then sample. */
  generate(prompts: readonly OpenAIPrompt[], params: GenerationParams): Effect.Effect<SampleText[], WinnowError> {
    return Effect.forEach(prompts, (prompt, index) => this.samplesOf(prompt, index, params), { concurrency: "unbounded" }).pipe(
      Effect.map((groups) => groups.flat())
    )
  }

  /** Closes pooled connections. */
  close(): void {
    this.agents.close()
  }

  private samplesOf(prompt: OpenAIPrompt, index: number, params: GenerationParams): Effect.Effect<SampleText[], WinnowError> {
    const self = this
    return Effect.gen(function* () {
      const n = prompt.seeds.length
      if (n === 0) return []
      if (n === 1 || self.nUnsupported) return yield* self.oneByOne(prompt, index, params, 0)
      const exchange = yield* self.complete(prompt.messages, n, prompt.seeds[0]!, params)
      if (!exchange.ok) {
        const error = parseServerError(exchange.reply.body)
        if (isRefusal(exchange.reply) && mentionsField("n", error.message, error.param)) {
          self.rememberSplit(`the server rejected n=${n}: ${error.message}`)
          return yield* self.oneByOne(prompt, index, params, 0)
        }
        return yield* Effect.fail(self.rejection(exchange.reply))
      }
      const choices = orderChoices(exchange.body.choices).slice(0, n)
      const samples = choices.map((choice, sample) => self.toSample(choice, exchange.body, choices.length, index, sample))
      if (choices.length >= n) return samples
      self.rememberSplit(`the server answered n=${n} with ${choices.length} choice(s)`)
      return [...samples, ...(yield* self.oneByOne(prompt, index, params, choices.length))]
    })
  }

  private oneByOne(prompt: OpenAIPrompt, index: number, params: GenerationParams, from: number): Effect.Effect<SampleText[], WinnowError> {
    return Effect.forEach(
      prompt.seeds.slice(from),
      (seed, i) =>
        this.complete(prompt.messages, 1, seed, params).pipe(
          Effect.flatMap((exchange) => {
            if (!exchange.ok) return Effect.fail(this.rejection(exchange.reply))
            const choice = orderChoices(exchange.body.choices)[0]
            if (!choice) return Effect.fail(this.failed(`the server answered with no choices`))
            return Effect.succeed(this.toSample(choice, exchange.body, 1, index, from + i))
          })
        ),
      { concurrency: "unbounded" }
    )
  }

  private rememberSplit(reason: string): void {
    if (this.nUnsupported) return
    this.nUnsupported = true
    this.hooks.onFallback?.(`${reason}; sending one request per sample from now on`)
  }

  private rememberExtendedRefused(reason: string): void {
    if (this.extendedRefused) return
    this.extendedRefused = true
    this.hooks.onFallback?.(`${reason}; sending requests without ${EXTENDED_FIELDS.slice(0, -1).join(", ")} and ${EXTENDED_FIELDS.at(-1)} from now on`)
  }

  private requestBody(messages: readonly ChatMessage[], n: number, seed: number, params: GenerationParams): Record<string, unknown> {
    const extended = this.config.extended_sampling && !this.extendedRefused
    return {
      model: this.config.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      ...(n > 1 ? { n } : {}),
      temperature: params.temperature,
      top_p: params.top_p,
      max_tokens: params.max_new_tokens,
      seed,
      ...(params.stop && params.stop.length > 0 ? { stop: [...params.stop] } : {}),
      ...(this.config.logprobs ? { logprobs: true, top_logprobs: TOP_LOGPROBS } : {}),
      ...(extended && params.top_k > 0 ? { top_k: params.top_k } : {}),
      ...(extended && params.min_p > 0 ? { min_p: params.min_p } : {}),
      ...(extended && params.repetition_penalty !== 1 ? { repetition_penalty: params.repetition_penalty } : {})
    }
  }

  /**
   * One chat completion; a status retrying cannot fix comes back as `ok: false`, a transient one
   * fails. A refusal naming an extended sampling field that was sent is asked again without them.
   */
  private complete(messages: readonly ChatMessage[], n: number, seed: number, params: GenerationParams): Effect.Effect<Exchange, WinnowError> {
    const body = this.requestBody(messages, n, seed, params)
    return this.send(body).pipe(Effect.flatMap((exchange) => {
      if (exchange.ok || !isRefusal(exchange.reply)) return Effect.succeed(exchange)
      const error = parseServerError(exchange.reply.body)
      const named = EXTENDED_FIELDS.filter((field) => field in body && mentionsField(field, error.message, error.param))
      if (named.length === 0) return Effect.succeed(exchange)
      this.rememberExtendedRefused(`the server refused ${named.join(", ")} (HTTP ${exchange.reply.status}: ${error.message.slice(0, 200)})`)
      return this.send(this.requestBody(messages, n, seed, params))
    }))
  }

  private send(body: Record<string, unknown>): Effect.Effect<Exchange, WinnowError> {
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}
    const limited = this.limiter
    return (limited ? limited.acquire(tokensAsked(body)) : Effect.void).pipe(Effect.andThen(this.permits.withPermits(1)(
      Effect.tryPromise({
        try: (signal) => this.agents.send({ method: "POST", url: this.endpoint, headers, body, timeoutMs: this.config.timeout_ms, signal }),
        catch: (e) => (e instanceof TransportError ? e : new TransportError(String(e), false))
      }).pipe(Effect.result)
    ))).pipe(Effect.flatMap((sent): Effect.Effect<Exchange, WinnowError> => {
      const outcome = classify(sent)
      if (outcome.kind === "transient" && outcome.status === 429) limited?.throttled()
      else if (outcome.kind === "done") limited?.succeeded()
      if (outcome.kind === "final") return Effect.succeed({ ok: false, reply: outcome.reply })
      if (outcome.kind === "transient") return Effect.fail(this.failed(outcome.reason, outcome.retryAfterMs))
      const parsed = parseChatCompletion(outcome.reply.body)
      return Result.isSuccess(parsed)
        ? Effect.succeed({ ok: true, body: parsed.success })
        : Effect.fail(this.failed(parsed.failure))
    }))
  }

  private toSample(choice: ChatChoice, body: ChatCompletionBody, choices: number, prompt: number, sample: number): SampleText {
    const text = choice.message?.content ?? ""
    const tokens = choice.logprobs?.content ?? null
    const logprobs = tokens ? tokens.map((t) => (Number.isFinite(t.logprob) ? t.logprob : -9999)) : []
    const completion = body.usage?.completion_tokens ?? null
    const allText = body.choices.reduce((sum, c) => sum + (c.message?.content ?? "").length, 0)
    const tokenCount = tokens
      ? tokens.length
      : completion === null
        ? 0
        : choices === 1
          ? completion
          : Math.round(completion * (allText > 0 ? text.length / allText : 1 / choices))
    return {
      prompt,
      sample,
      text,
      tokenCount,
      promptTokens: body.usage?.prompt_tokens ?? 0,
      logprobs,
      entropies: [],
      finish: finishOf(choice)
    }
  }

  private failed(reason: string, retryAfterMs?: number): InferenceFailed {
    return new InferenceFailed({ model: `${this.config.model} at ${this.config.base_url}`, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }

  /** A status that retrying cannot fix: bad credentials, unknown model or URL, a request the server refuses. */
  private rejection(reply: HttpReply): WinnowError {
    const { message } = parseServerError(reply.body)
    const source = `openai backend ${this.config.base_url}`
    const said = `HTTP ${reply.status}: ${message}`
    if (reply.status === 401 || reply.status === 403) {
      return inputInvalid(source, "generator.backend.api_key_env", this.config.api_key_env ?? said, `credentials the server accepts (it answered ${said})`)
    }
    if (reply.status === 404) {
      return /model/i.test(message)
        ? inputInvalid(source, "generator.backend.model", this.config.model, `a model the server serves (it answered ${said})`)
        : inputInvalid(source, "generator.backend.base_url", this.config.base_url, `the root of an OpenAI-compatible API, usually ending in /v1 (it answered ${said})`)
    }
    if (reply.status >= 400 && reply.status < 500) {
      return inputInvalid(source, "generator", said, "a request the server accepts")
    }
    return this.failed(said)
  }
}

type Outcome =
  | { readonly kind: "done"; readonly reply: HttpReply }
  | { readonly kind: "final"; readonly reply: HttpReply }
  | { readonly kind: "transient"; readonly status: number | null; readonly reason: string; readonly retryAfterMs?: number }

/** The most tokens a request can count against a tokens-per-minute limit: its prompt (about 3 characters a token) and every choice's token limit. */
const tokensAsked = (body: Record<string, unknown>): number => {
  const promptChars = JSON.stringify(body.messages ?? []).length
  return Math.ceil(promptChars / 3) + Number(body.max_tokens ?? 0) * Number(body.n ?? 1)
}

const classify = (sent: Result.Result<HttpReply, TransportError>): Outcome => {
  if (Result.isFailure(sent)) return { kind: "transient", status: null, reason: sent.failure.message }
  const reply = sent.success
  if (reply.status >= 200 && reply.status < 300) return { kind: "done", reply }
  const wait = retryAfterMs(reply.headers["retry-after"])
  if (reply.status === 429 || reply.status === 408 || reply.status >= 500) {
    return { kind: "transient", status: reply.status, reason: `HTTP ${reply.status}: ${parseServerError(reply.body).message}`, ...(wait !== undefined ? { retryAfterMs: wait } : {}) }
  }
  return { kind: "final", reply }
}

/** A request the server refuses as such: 400 (OpenAI, vLLM, llama.cpp) or 422 (FastAPI validation, `transformers serve`). */
const isRefusal = (reply: HttpReply): boolean => reply.status === 400 || reply.status === 422

/**
 * Whether a refusal is about one request field: OpenAI and vLLM name it in `param`, others in the
 * message (`Unrecognized request argument supplied: top_k`, `Unexpected keys in the request:
 * {'top_k'}`, a FastAPI `loc`); llama.cpp says "one completion choice" about `n`.
 */
const mentionsField = (field: string, message: string, param: string | undefined): boolean => {
  if (param === field) return true
  const word = new RegExp(`(^|[^A-Za-z0-9_])${field}([^A-Za-z0-9_]|$)`, "i")
  return word.test(message) || (field === "n" && /completion choice|num_return_sequences/i.test(message))
}

const orderChoices = (choices: readonly ChatChoice[]): ChatChoice[] =>
  choices.map((c, i) => ({ c, i: c.index ?? i })).sort((a, b) => a.i - b.i).map(({ c }) => c)

/** `length` stays; `stop` is a stop string when the server names it in `stop_reason` (vLLM, SGLang, winnow serve), else the end-of-sequence token. */
const finishOf = (choice: ChatChoice): FinishReason => {
  if (choice.finish_reason === "length") return "length"
  return typeof choice.stop_reason === "string" ? "stop" : "eos"
}



