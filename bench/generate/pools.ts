import { poolWithThreads, ThreadPool } from "../../models/inferencePool.js"
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
const ROUNDS = 2

/**
 * Compares the pool shapes a `cores`-core machine allows for one model: one inference thread
 * using every core (1 × cores) against one thread per core (cores × 1), on four concurrent
 * best-of-8 requests (as four shards' generate activities would send). Warms every thread first;
 * the two shapes take turns and each keeps its fastest of two rounds.
 */
export const comparePools = async (dir: string, cores: number, log: (l: string) => void): Promise<{ one: PoolFigure; many: PoolFigure }> => {
  const corpus = readCorpus().replace(/\s+/g, " ")
  const prompts = Array.from({ length: REQUESTS }, (_, i) => corpus.slice(i * 500, i * 500 + 700))
  const shapes = [
    { threads: 1, intra: cores },
    { threads: cores, intra: 1 }
  ].map((shape) => ({ ...shape, pool: new ThreadPool(poolWithThreads(shape.threads, undefined, shape.threads * shape.intra)), times: [] as number[] }))
  const send = (pool: ThreadPool, text: string, i: number, max: number) =>
    pool.request<SampleText[]>({
      op: "generate",
      model: dir,
      prompts: [{ messages: [{ role: "user", content: text }], seeds: benchSeeds(100 + i, N) }],
      params: { ...BENCH_SAMPLING, max_new_tokens: max }
    })
  try {
    for (const shape of shapes) await Promise.all(Array.from({ length: shape.threads }, (_, i) => send(shape.pool, prompts[i % REQUESTS]!, i, 4)))
    for (let round = 0; round < ROUNDS; round++) {
      for (const shape of shapes) {
        const started = performance.now()
        await Promise.all(prompts.map((text, i) => send(shape.pool, text, i, 256)))
        shape.times.push((performance.now() - started) / 1000)
        log(`pool ${shape.threads}×${shape.intra} round ${round + 1}: ${shape.times.at(-1)!.toFixed(2)} s`)
      }
    }
  } finally {
    await Promise.all(shapes.map((s) => s.pool.close()))
  }
  const [one, many] = shapes.map((s) => ({ threads: s.threads, intra: s.intra, seconds: Math.min(...s.times) })) as [PoolFigure, PoolFigure]
  return { one, many }
}
