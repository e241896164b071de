import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { poolWithThreads, ThreadPool } from "../models/inferencePool.js"
import type { SampleText } from "../models/localGenerator.js"
import { modelCopyBytes, type Placement } from "../models/modelPlacement.js"
import { repoRoot } from "./support/harness.js"

const model = join(repoRoot, "examples/models/tiny-chat")
const params = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 24 }
const request = (seed: number) => ({
  op: "generate" as const,
  model,
  prompts: [{ messages: [{ role: "user" as const, content: "你好，介绍一下你自己。" }], seeds: [[seed, 0, 0, 0] as const, [seed, 0, 0, 1] as const] }],
  params
})

describe("placing models on inference threads under a memory budget", () => {
  const pools: ThreadPool[] = []
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()))
  })
  const open = (budgetBytes: number) => {
    const placed: Array<[string, Placement]> = []
    const pool = new ThreadPool(poolWithThreads(2, budgetBytes, 2), (key, placement) => placed.push([key, placement]))
    pools.push(pool)
    return { pool, placed }
  }
  const runFour = (pool: ThreadPool) => Promise.all([1, 2, 3, 4].map((seed) => pool.request<SampleText[]>(request(seed))))

  it("loads a model that fits only once on one thread, which gets both cores and serves every request", async () => {
    const copy = modelCopyBytes(model, undefined, true)
    expect(copy).toBeGreaterThan(0)
    const { pool, placed } = open(Math.round(copy * 1.2))
    const first = await runFour(pool)
    expect(placed).toEqual([[model, { threads: [0], intraOpThreads: 2, copyBytes: copy }]])
    expect(pool.stats().served).toEqual([4, 0])
    expect(first.every((samples) => samples.length === 2 && samples.every((s) => s.tokenCount > 0))).toBe(true)
    expect(await runFour(pool)).toEqual(first)
  })

  it("copies a model onto every thread when the budget holds it, and spreads requests over them", async () => {
    const copy = modelCopyBytes(model, undefined, true)
    const { pool, placed } = open(copy * 4)
    await runFour(pool)
    expect(placed).toEqual([[model, { threads: [0, 1], intraOpThreads: 1, copyBytes: copy }]])
    expect(pool.stats().served).toEqual([2, 2])
  })
})
