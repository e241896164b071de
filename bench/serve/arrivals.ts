import { poolWithThreads } from "../../models/inferencePool.js"
import { type ServeBatching, startServe } from "../../serve/server.js"
import { readCorpus } from "../../tests/fixtures/index.js"

/** What one arrival schedule cost a server: mean time to first token, time to last token, mean request latency (seconds). */
export interface ArrivalFigures {
  readonly meanTtft: number
  readonly lastToken: number
  readonly meanLatency: number
}

/** A fixed schedule of streamed chat requests: when each client arrives, what it asks, how many tokens at most. */
export interface ArrivalPlan {
  readonly clients: number
  readonly spreadSeconds: number
  readonly maxTokens: readonly number[]
}

/** One streamed request: seconds from sending it to its first content token and to its end. */
const streamOnce = async (url: string, body: Record<string, unknown>): Promise<{ ttft: number; total: number }> => {
  const started = performance.now()
  const response = await fetch(`${url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) })
  if (response.status !== 200) throw new Error(`winnow serve answered ${response.status}: ${await response.text()}`)
  let ttft: number | undefined
  let buffered = ""
  const decoder = new TextDecoder()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (ttft !== undefined) continue
    buffered += decoder.decode(chunk, { stream: true })
    const lines = buffered.split("\n")
    buffered = lines.pop()!
    const hasToken = lines.some((line) => {
      if (!line.startsWith("data: {")) return false
      const event = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }
      return (event.choices ?? []).some((c) => (c.delta?.content ?? "").length > 0)
    })
    if (hasToken) ttft = (performance.now() - started) / 1000
  }
  return { ttft: ttft ?? (performance.now() - started) / 1000, total: (performance.now() - started) / 1000 }
}

/**
 * Plays `plan` against a server: client i arrives at i × spread / clients seconds and streams one
 * chat completion (its own prompt, seed and max_tokens from the plan's cycle).
 */
export const playArrivals = async (url: string, plan: ArrivalPlan, round: number): Promise<ArrivalFigures> => {
  const corpus = readCorpus().replace(/\s+/g, " ")
  const started = performance.now()
  const results = await Promise.all(Array.from({ length: plan.clients }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i * plan.spreadSeconds * 1000) / plan.clients))
    const content = corpus.slice(i * 300, i * 300 + 120 + (i % 4) * 60)
    return streamOnce(url, { model: "bench", messages: [{ role: "user", content }], max_tokens: plan.maxTokens[i % plan.maxTokens.length], temperature: 0.8, top_k: 50, seed: round * 1000 + i })
  }))
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { meanTtft: mean(results.map((r) => r.ttft)), lastToken: (performance.now() - started) / 1000, meanLatency: mean(results.map((r) => r.total)) }
}

/**
 * Starts one `winnow serve` per batching mode over the same model and threads and plays the same
 * arrival plan against each, modes taking turns round by round (after a warm-up round); keeps each
 * mode's rounds.
 */
export const compareArrivals = async (dir: string, threads: number, cores: number, modes: readonly ServeBatching[], plan: ArrivalPlan, rounds: number, log: (l: string) => void): Promise<Map<ServeBatching, ArrivalFigures[]>> => {
  const servers = await Promise.all(modes.map((batching) => startServe({ modelDir: dir, name: "bench", host: "127.0.0.1", port: 0, pool: poolWithThreads(threads, undefined, cores), defaultMaxTokens: 256, batching })))
  const figures = new Map<ServeBatching, ArrivalFigures[]>(modes.map((m) => [m, []]))
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const [s, server] of servers.entries()) {
        const got = await playArrivals(server.url, plan, round)
        if (round > 0) figures.get(modes[s]!)!.push(got)
        log(`serve ${modes[s]} round ${round}${round === 0 ? " (warm-up)" : ""}: ${JSON.stringify(got)}`)
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
  return figures
}
