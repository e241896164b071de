import { poolWithThreads } from "../../models/inferencePool.js"
import { type ServeBatching, startServe } from "../../serve/server.js"
import { readCorpus } from "../../tests/fixtures/index.js"

/**
 * What one arrival schedule cost a server: mean time to first token, time to last token, mean
 * request latency (seconds), seconds per generated token after each request's first, and what it
 * did: prompt and generated tokens as the server reported them, and how many rows ended at EOS
 * (the rest hit max_tokens).
 */
export interface ArrivalFigures {
  readonly meanTtft: number
  readonly lastToken: number
  readonly meanLatency: number
  readonly secondsPerToken: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly eosStops: number
}

/** A fixed schedule of streamed requests: when each client arrives, how many tokens at most, and the sampling all use. */
export interface ArrivalPlan {
  readonly clients: number
  readonly spreadSeconds: number
  readonly maxTokens: readonly number[]
  readonly temperature: number
  readonly topK: number
}

/** One client's request: its single user message, max_tokens and seed. */
export interface ArrivalRequest {
  readonly content: string
  readonly maxTokens: number
  readonly seed: number
}

/** One streamed answer: seconds to its first non-empty text and to its end, token counts the server reported, and whether it ended at EOS. */
export interface StreamedAnswer {
  readonly ttft: number
  readonly total: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly eos: boolean
}

/** Sends one request to a server, streamed, and times it; one function per server API. */
export type ArrivalClient = (request: ArrivalRequest, plan: ArrivalPlan) => Promise<StreamedAnswer>

/** A server under test: its name in the log and the results, and how to ask it. */
export interface ArrivalSide {
  readonly name: string
  readonly client: ArrivalClient
}

/**
 * POSTs `body` and reads the server-sent events of the answer, calling `onEvent` with each JSON
 * `data:` payload; returns seconds from sending to the first event `hasText` accepts, and to the end.
 * Use for any streaming completion API (OpenAI chunks, llama-server's /completion). A request
 * whose kept-alive connection the server had already closed (the socket fails before any answer:
 * seen with llama-server after a long idle spell) is sent again once, timed from the new send.
 */
export const streamEvents = async (url: string, body: unknown, hasText: (event: Record<string, unknown>) => boolean, onEvent: (event: Record<string, unknown>) => void): Promise<{ ttft: number; total: number }> => {
  const send = () => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  let started = performance.now()
  const response = await send().catch((error: unknown) => {
    if ((error as { cause?: { code?: string } }).cause?.code !== "UND_ERR_SOCKET") throw error
    started = performance.now()
    return send()
  })
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${await response.text()}`)
  let ttft: number | undefined
  let buffered = ""
  const decoder = new TextDecoder()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true })
    const lines = buffered.split("\n")
    buffered = lines.pop()!
    for (const line of lines) {
      if (!line.startsWith("data: {")) continue
      const event = JSON.parse(line.slice(6)) as Record<string, unknown>
      if (ttft === undefined && hasText(event)) ttft = (performance.now() - started) / 1000
      onEvent(event)
    }
  }
  return { ttft: ttft ?? (performance.now() - started) / 1000, total: (performance.now() - started) / 1000 }
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>
  usage?: { prompt_tokens: number; completion_tokens: number } | null
}

/** A client of `winnow serve` (any OpenAI-compatible server): streamed chat completions with the usage at the end. */
export const chatClient = (apiRoot: string, model: string): ArrivalClient => async (request, plan) => {
  let usage = { prompt_tokens: 0, completion_tokens: 0 }
  let eos = false
  const body = {
    model,
    messages: [{ role: "user", content: request.content }],
    max_tokens: request.maxTokens,
    temperature: plan.temperature,
    top_k: plan.topK,
    seed: request.seed,
    stream: true,
    stream_options: { include_usage: true }
  }
  const times = await streamEvents(`${apiRoot}/chat/completions`, body, (e) => ((e as ChatChunk).choices ?? []).some((c) => (c.delta?.content ?? "").length > 0), (e) => {
    const chunk = e as ChatChunk
    if (chunk.usage) usage = chunk.usage
    if ((chunk.choices ?? []).some((c) => c.finish_reason === "stop")) eos = true
  })
  return { ...times, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, eos }
}

/** Client i's request in `round`: its own slice of the bundled corpus (120–300 characters), max_tokens from the plan's cycle, its own seed. */
export const arrivalRequest = (plan: ArrivalPlan, i: number, round: number): ArrivalRequest => {
  const corpus = readCorpus().replace(/\s+/g, " ")
  return { content: corpus.slice(i * 300, i * 300 + 120 + (i % 4) * 60), maxTokens: plan.maxTokens[i % plan.maxTokens.length]!, seed: round * 1000 + i }
}

const figuresOf = (results: readonly StreamedAnswer[], started: number): ArrivalFigures => {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  return {
    meanTtft: sum(results.map((r) => r.ttft)) / results.length,
    lastToken: (performance.now() - started) / 1000,
    meanLatency: sum(results.map((r) => r.total)) / results.length,
    secondsPerToken: sum(results.map((r) => r.total - r.ttft)) / Math.max(1, sum(results.map((r) => Math.max(0, r.completionTokens - 1)))),
    promptTokens: sum(results.map((r) => r.promptTokens)),
    completionTokens: sum(results.map((r) => r.completionTokens)),
    eosStops: results.filter((r) => r.eos).length
  }
}

/** Plays `plan` against a server: client i arrives at i × spread / clients seconds and streams its request. */
export const playArrivals = async (client: ArrivalClient, plan: ArrivalPlan, round: number): Promise<ArrivalFigures> => {
  const started = performance.now()
  const results = await Promise.all(Array.from({ length: plan.clients }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i * plan.spreadSeconds * 1000) / plan.clients))
    return client(arrivalRequest(plan, i, round), plan)
  }))
  return figuresOf(results, started)
}

/**
 * The plan's requests sent one after another, each alone on the server (no batching, no
 * queueing): mean time to first token and mean latency of a request by itself, which splits a
 * gap under load into per-request cost and scheduling. Returns the same figures as `playArrivals`.
 */
export const playAlone = async (client: ArrivalClient, plan: ArrivalPlan, round: number): Promise<ArrivalFigures> => {
  const started = performance.now()
  const results: StreamedAnswer[] = []
  for (let i = 0; i < plan.clients; i++) results.push(await client(arrivalRequest(plan, i, round), plan))
  return figuresOf(results, started)
}

/**
 * Plays the same arrival plan against every side, sides taking turns round by round (after a
 * warm-up round, not kept), so slow spells of a shared machine hit all of them; keeps each side's
 * rounds by name.
 */
export const compareArrivals = async (sides: readonly ArrivalSide[], plan: ArrivalPlan, rounds: number, log: (l: string) => void): Promise<Map<string, ArrivalFigures[]>> => {
  const figures = new Map<string, ArrivalFigures[]>(sides.map((s) => [s.name, []]))
  for (let round = 0; round <= rounds; round++) {
    for (const side of sides) {
      const got = await playArrivals(side.client, plan, round)
      if (round > 0) figures.get(side.name)!.push(got)
      log(`serve ${side.name} round ${round}${round === 0 ? " (warm-up)" : ""}: ${JSON.stringify(got)}`)
    }
  }
  return figures
}

/**
 * Starts one `winnow serve` per batching mode over `dir` with `threads` inference threads and runs
 * `body` with them as arrival sides named after their modes; closes them after. `variant` picks
 * the model's weights (`gguf:f32` runs them through winnow's llama.cpp backend).
 */
export const withWinnowServers = async <T>(
  dir: string,
  threads: number,
  cores: number,
  modes: readonly ServeBatching[],
  body: (sides: ArrivalSide[]) => Promise<T>,
  variant?: string
): Promise<T> => {
  const servers = await Promise.all(
    modes.map((batching) => startServe({ modelDir: dir, variant, name: "bench", host: "127.0.0.1", port: 0, pool: poolWithThreads(threads, undefined, cores), defaultMaxTokens: 256, batching }))
  )
  try {
    return await body(servers.map((server, s) => ({ name: modes[s]!, client: chatClient(server.url, "bench") })))
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
}
