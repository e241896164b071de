import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Effect, Exit, ManagedRuntime, Result } from "effect"
import { isWinnowError } from "../core/errors.js"
import { DEFAULT_BATCH_BUDGET } from "../models/batchPlan.js"
import { InferencePool, type PoolOptions } from "../models/inferencePool.js"
import { readModelDir, variantOf } from "../models/modelDir.js"
import { logPlacement } from "../models/modelPlacement.js"
import type { GenerationParams, GenerationPrompt, SampleText, StreamedToken } from "../models/localGenerator.js"
import { choiceSeeds } from "../core/seeds.js"
import { completionBody, completionId, randomSeed } from "./completion.js"
import { CompletionStream } from "./completionStream.js"
import { parseServeRequest } from "./request.js"
import { TokenPieces } from "./tokenPieces.js"
import type { OpenAIErrorBody } from "../models/openaiWire.js"
import { RequestBatcher, type StartGeneration } from "./requestBatcher.js"
import { modelKey } from "../models/threadProtocol.js"
import { TextTokenizer } from "../models/tokenizer.js"

/** How `winnow serve` runs: which model, where it listens, how many inference threads. */
export interface ServeOptions {
  readonly modelDir: string
  /** Which weights of the directory to serve (`fp16` → `onnx/model_fp16.onnx`, `gguf:q8_0` → `gguf/model-q8_0.gguf` run by llama.cpp); default as in `readModelDir`. */
  readonly variant?: string
  /** The model id clients send and `/v1/models` lists (default: the directory's name). */
  readonly name: string
  readonly host: string
  readonly port: number
  readonly pool: PoolOptions
  /** `max_tokens` when a request gives none (bounded by the context left). */
  readonly defaultMaxTokens: number
  /** How concurrent requests share decoding (default continuous; see `RequestBatcher`). */
  readonly batching?: ServeBatching
  readonly log?: { info(details: Record<string, unknown>, message: string): void }
}

/** The ways `winnow serve` can batch requests: joining running batches, waiting for the next batch, or each alone. */
export const SERVE_BATCHING = ["continuous", "static", "off"] as const

/** One of `SERVE_BATCHING`. */
export type ServeBatching = (typeof SERVE_BATCHING)[number]

/** A listening server. */
export interface RunningServe {
  /** The API root clients use as base URL, e.g. `http://127.0.0.1:8000/v1`. */
  readonly url: string
  readonly model: string
  close(): Promise<void>
}

/** Largest request body accepted. */
const MAX_BODY_BYTES = 16 * 1024 * 1024

/** Most bytes of an over-large body read (and dropped) before its 413, so the client hears it. */
const MAX_DRAINED_BYTES = 4 * MAX_BODY_BYTES

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAIErrorBody["error"]["type"],
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Close the connection once the answer is sent (the request was not read to its end). */
    readonly close = false
  ) {
    super(message)
  }
}

/**
 * Starts an OpenAI-compatible server over the local generator: `POST /v1/chat/completions`,
 * `GET /v1/models`, `GET /health`. Generation runs in inference worker threads; the model is
 * loaded (and a bad model directory reported) before the server listens.
 */
export const startServe = async (options: ServeOptions): Promise<RunningServe> => {
  const dir = readModelDir(options.modelDir, "model-dir", "winnow serve", options.variant === undefined ? undefined : { variant: options.variant, field: "--variant" })
  const tokenizer = TextTokenizer.load(dir)
  const pieces = TokenPieces.load(dir.tokenizerPath)
  const context = contextLength(dir.config)
  const runtime = ManagedRuntime.make(InferencePool.layer(options.pool, options.log && logPlacement(options.log)))
  const generate = async (prompts: readonly GenerationPrompt[], params: GenerationParams): Promise<SampleText[]> => {
    const exit = await runtime.runPromiseExit(Effect.gen(function* () {
      const pool = yield* InferencePool
      return yield* pool.generate({ model: dir.path, ...variantOf(options), prompts, params })
    }))
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  const poolStats = () => runtime.runPromise(Effect.gen(function* () {
    return (yield* InferencePool).stats()
  }))
  let copies: number
  try {
    await generate([{ messages: [{ role: "user", content: "hello" }], seeds: choiceSeeds(0, 1) }], { temperature: 0, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 1 })
    copies = (await poolStats()).models[modelKey({ model: dir.path, ...variantOf(options) })]?.threads.length ?? options.pool.threads
  } catch (error) {
    await runtime.dispose()
    throw error
  }
  const pool = await runtime.runPromise(Effect.gen(function* () {
    return yield* InferencePool
  }))
  const start: StartGeneration = (prompts, params, hooks, onTokens, signal) => pool.startJoinable({ model: dir.path, ...variantOf(options), prompts, params }, hooks, onTokens, signal)
  const batching = options.batching ?? "continuous"
  const batcher = new RequestBatcher(start, { slots: copies, maxRows: batching === "off" ? 1 : DEFAULT_BATCH_BUDGET.maxRows, continuous: batching === "continuous" })
  const created = Math.floor(Date.now() / 1000)

  const chat = async (body: unknown, res: ServerResponse): Promise<void> => {
    const parsed = parseServeRequest(body)
    if (Result.isFailure(parsed)) throw new HttpProblem(400, "invalid_request_error", parsed.failure.message, parsed.failure.param)
    const request = parsed.success
    if (request.model !== options.name) {
      throw new HttpProblem(404, "not_found_error", `The model \`${request.model}\` does not exist; this server serves \`${options.name}\``, "model", "model_not_found")
    }
    const promptTokens = (await tokenizer.encode(tokenizer.renderChat(request.messages, true))).length
    const room = context === undefined ? Number.POSITIVE_INFINITY : context - promptTokens
    if (room < 1) throw new HttpProblem(400, "invalid_request_error", `messages: ${promptTokens} prompt tokens leave no room in the model's context of ${context} tokens`, "messages", "context_length_exceeded")
    const maxTokens = request.max_tokens ?? Math.min(options.defaultMaxTokens, room)
    if (maxTokens > room) {
      throw new HttpProblem(400, "invalid_request_error", `max_tokens: got ${maxTokens}, expected at most ${room} (context ${context} minus ${promptTokens} prompt tokens)`, "max_tokens", "context_length_exceeded")
    }
    const started = Date.now()
    const meta = { id: completionId(), created: Math.floor(Date.now() / 1000), model: options.name, request, pieces }
    const stream = request.stream ? new CompletionStream(res, meta, tokenizer) : undefined
    const samples = await batcher.submit({ messages: request.messages, seeds: choiceSeeds(request.seed ?? randomSeed(), request.n) }, {
      temperature: request.temperature,
      top_k: request.top_k,
      top_p: request.top_p,
      min_p: request.min_p,
      repetition_penalty: request.repetition_penalty,
      max_new_tokens: maxTokens,
      ...(request.stop.length > 0 ? { stop: request.stop } : {}),
      ...(request.logprobs && request.top_logprobs ? { top_logprobs: request.top_logprobs } : {})
    }, { ...(stream ? { onTokens: (tokens: readonly StreamedToken[]) => stream.tokens(tokens) } : {}), signal: clientGone(res) })
    const stopReasons = await Promise.all(samples.map((s) => stopReasonOf(s, request.stop, tokenizer)))
    const input = { ...meta, promptTokens, samples, stopReasons }
    options.log?.info({ n: request.n, promptTokens, completionTokens: samples.reduce((a, s) => a + s.tokenCount, 0), ms: Date.now() - started, stream: request.stream }, "chat completion")
    if (stream) return stream.finish(input)
    sendJson(res, 200, completionBody(input))
  }

  const modelCard = { id: options.name, object: "model", created, owned_by: "winnow", ...(context !== undefined ? { max_model_len: context } : {}) }
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/"
    const method = req.method ?? "GET"
    const allow = (expected: string) => {
      if (method !== expected) throw new HttpProblem(405, "invalid_request_error", `${path} takes ${expected}, not ${method}`)
    }
    if (path === "/health") return allow("GET"), sendJson(res, 200, { status: "ok", model: options.name, generation: batcher.stats, pool: await poolStats() })
    if (path === "/v1/models") return allow("GET"), sendJson(res, 200, { object: "list", data: [modelCard] })
    if (path.startsWith("/v1/models/")) {
      allow("GET")
      const id = decodeURIComponent(path.slice("/v1/models/".length))
      if (id !== options.name) throw new HttpProblem(404, "not_found_error", `The model \`${id}\` does not exist`, "model", "model_not_found")
      return sendJson(res, 200, modelCard)
    }
    if (path === "/v1/chat/completions") {
      allow("POST")
      return chat(await readJsonBody(req), res)
    }
    throw new HttpProblem(404, "not_found_error", `no route ${method} ${path}; this server answers POST /v1/chat/completions, GET /v1/models, GET /health`)
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => sendProblem(res, toProblem(error)))
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}/v1`,
    model: options.name,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await runtime.dispose()
    }
  }
}

/** Aborts when the client closes the connection before the answer is complete. */
const clientGone = (res: ServerResponse): AbortSignal => {
  const controller = new AbortController()
  res.once("close", () => res.writableFinished || controller.abort())
  return controller.signal
}

const contextLength = (config: Record<string, unknown>): number | undefined => {
  for (const key of ["max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"]) {
    const value = config[key]
    if (typeof value === "number" && Number.isInteger(value) && value > 0) return value
  }
  return undefined
}

/** The stop string a sample ended on: found in the full decoded text where the returned text ends. */
const stopReasonOf = async (sample: SampleText, stops: readonly string[], tokenizer: TextTokenizer): Promise<string | null> => {
  if (sample.finish !== "stop" || stops.length === 0) return null
  if (!sample.tokens) return stops[0]!
  const full = await tokenizer.decode(sample.tokens)
  return stops.find((s) => full.startsWith(s, sample.text.length)) ?? stops.find((s) => full.includes(s)) ?? stops[0]!
}

/**
 * Reads a JSON request body. An over-large one is read to its end without being kept, so the
 * client (still uploading) receives the 413 instead of a reset connection; past
 * `MAX_DRAINED_BYTES` the 413 goes at once and the connection closes after it.
 */
const readJsonBody = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const tooLarge = (closing: boolean) =>
      new HttpProblem(413, "invalid_request_error", `the request body is larger than ${MAX_BODY_BYTES} bytes`, null, null, closing)
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_DRAINED_BYTES) {
        req.removeAllListeners("data")
        reject(tooLarge(true))
      } else if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk)
      } else if (chunks.length > 0) {
        chunks.length = 0
      }
    })
    req.on("error", reject)
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) return reject(tooLarge(false))
      const text = Buffer.concat(chunks).toString("utf8")
      try {
        resolve(JSON.parse(text))
      } catch (e) {
        reject(new HttpProblem(400, "invalid_request_error", `the request body is not valid JSON: ${(e as Error).message}`))
      }
    })
  })

const toProblem = (error: unknown): HttpProblem => {
  if (error instanceof HttpProblem) return error
  if (isWinnowError(error)) {
    return error._tag === "InputInvalid"
      ? new HttpProblem(400, "invalid_request_error", error.message)
      : new HttpProblem(500, "server_error", error.message, null, error._tag)
  }
  return new HttpProblem(500, "server_error", error instanceof Error ? error.message : String(error))
}

const sendProblem = (res: ServerResponse, problem: HttpProblem): void => {
  if (res.headersSent) return void res.destroy()
  const body: OpenAIErrorBody = { error: { message: problem.message, type: problem.type, param: problem.param, code: problem.code } }
  sendJson(res, problem.status, body, problem.close ? { connection: "close" } : {})
  if (problem.close) res.once("finish", () => res.req.destroy())
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const payload = Buffer.from(JSON.stringify(body), "utf8")
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(payload.length), ...headers })
  res.end(payload)
}
