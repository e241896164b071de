import { poolWithThreads } from "../../models/inferencePool.js"
import { startServe } from "../../serve/server.js"
import { readCorpus } from "../../tests/fixtures/index.js"

const MAX_TOKENS = 128
const ROUNDS = 2

/** Wall time of `winnow serve` answering the same concurrent requests with and without cross-request batching. */
export interface ServeFigure {
  readonly batched: number
  readonly unbatched: number
}

/**
 * `clients` clients each ask `winnow serve` (one inference thread per core, as `--threads` sets
 * it) for `n` choices of up to 128 tokens at once, as a campaign's HTTP backend with that
 * concurrency would. Two servers over the same model take turns, one merging concurrent requests
 * into shared batches (the default), one decoding each request alone (`--no-batch`); each keeps
 * its fastest of two rounds, after a warm-up round. With `mixed` the clients differ as real ones
 * do: temperatures 0.6–1.2 and max_tokens 64–128.
 */
export const compareServeBatching = async (dir: string, cores: number, clients: number, n: number, log: (l: string) => void, mixed = false): Promise<ServeFigure> => {
  const corpus = readCorpus().replace(/\s+/g, " ")
  const prompts = Array.from({ length: clients }, (_, i) => corpus.slice(i * 300, i * 300 + 200))
  const servers = await Promise.all((["continuous", "off"] as const).map((batching) =>
    startServe({ modelDir: dir, name: "bench", host: "127.0.0.1", port: 0, pool: poolWithThreads(cores), defaultMaxTokens: MAX_TOKENS, batching })))
  const times = servers.map(() => [] as number[])
  const sampling = (i: number) => (mixed ? { temperature: [0.6, 0.8, 1, 1.2][i % 4], max_tokens: [64, 96, 128][i % 3] } : { temperature: 1, max_tokens: MAX_TOKENS })
  const ask = (url: string, content: string, i: number, seed: number) =>
    fetch(`${url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bench", messages: [{ role: "user", content }], n, top_k: 50, seed, ...sampling(i) })
    }).then(async (r) => {
      if (r.status !== 200) throw new Error(`winnow serve answered ${r.status}: ${await r.text()}`)
      return r.json()
    })
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      for (const [s, server] of servers.entries()) {
        const started = performance.now()
        await Promise.all(prompts.map((p, i) => ask(server.url, p, i, round * 100 + i)))
        if (round > 0) times[s]!.push((performance.now() - started) / 1000)
        log(`serve ${clients}×n=${n}${mixed ? " mixed" : ""} ${s === 0 ? "batched" : "unbatched"} round ${round}${round === 0 ? " (warm-up)" : ""}: ${((performance.now() - started) / 1000).toFixed(2)} s`)
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
  return { batched: Math.min(...times[0]!), unbatched: Math.min(...times[1]!) }
}
