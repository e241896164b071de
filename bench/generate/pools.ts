import { ThreadPool } from "../../models/inferencePool.js"
import type { SampleText } from "../../models/localGenerator.js"
import { readCorpus } from "../../tests/fixtures/index.js"
import { BENCH_SAMPLING, benchSeeds } from "./ours.js"

/** Wall time of one pool shape on the same concurrent requests. */
export interface PoolFigure {
  readonly threads: number
  readonly intra: number
  readonly seconds: number
}

const REQUESTS = 4
const N = 8

/**
 * Compares the pool shapes a `cores`-core machine allows for one model: one inference thread
 * using every core (1 × cores) against one thread per core (cores × 1), on four concurrent
 * best-of-8 requests (as four shards' generate activities would send). Warms every thread first.
 */
export const comparePools = async (dir: string, cores: number, log: (l: string) => void): Promise<{ one: PoolFigure; many: PoolFigure }> => {
  const corpus = readCorpus().replace(/\s+/g, " ")
  const prompts = Array.from({ length: REQUESTS }, (_, i) => corpus.slice(i * 500, i * 500 + 700))
  const shape = async (threads: number, intra: number): Promise<PoolFigure> => {
    const pool = new ThreadPool({ threads, intraOpThreads: intra })
    try {
      const send = (text: string, i: number, max: number) =>
        pool.request<SampleText[]>({
          op: "generate",
          model: dir,
          prompts: [{ messages: [{ role: "user", content: text }], seeds: benchSeeds(100 + i, N) }],
          params: { ...BENCH_SAMPLING, max_new_tokens: max }
        })
      await Promise.all(Array.from({ length: threads }, (_, i) => send(prompts[i % REQUESTS]!, i, 4)))
      const started = performance.now()
      await Promise.all(prompts.map((text, i) => send(text, i, 256)))
      const seconds = (performance.now() - started) / 1000
      log(`pool ${threads}×${intra}: ${seconds.toFixed(2)} s`)
      return { threads, intra, seconds }
    } finally {
      await pool.close()
    }
  }
  const one = await shape(1, cores)
  const many = await shape(cores, 1)
  return { one, many }
}
