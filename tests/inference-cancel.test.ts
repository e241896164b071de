import { join } from "node:path"
import { Effect, Fiber, type Layer, ManagedRuntime } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { InferencePool, poolWithThreads, ThreadPool } from "../models/inferencePool.js"
import type { SampleText, StreamedToken } from "../models/localGenerator.js"
import { repoRoot } from "./support/harness.js"

const model = join(repoRoot, "examples/models/tiny-chat")
const params = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 4000, ignore_eos: true }
const prompts = [{ messages: [{ role: "user" as const, content: "讲一个很长的故事。" }], seeds: [[1, 2, 3, 4] as const] }]

/** Resolves once the thread has streamed `count` steps of the request. */
const steps = (count: number) => {
  let seen = 0
  let reached!: () => void
  const done = new Promise<void>((resolve) => (reached = resolve))
  return { done, onTokens: (_: readonly StreamedToken[]) => ++seen === count && reached() }
}

describe("stopping a generation in its inference thread", () => {
  const pool = new ThreadPool(poolWithThreads(1, undefined, 1))
  afterAll(() => pool.close())

  it("stops before the next decode step when the signal aborts, and the thread serves the next request", async () => {
    const client = new AbortController()
    const progress = steps(5)
    const long = pool.request<SampleText[]>({ op: "generate", model, prompts, params, stream: true }, progress.onTokens, client.signal)
    await progress.done
    client.abort()
    await expect(long).rejects.toMatchObject({ _tag: "InferenceFailed", reason: "cancelled" })
    const short = await pool.request<SampleText[]>({ op: "generate", model, prompts, params: { ...params, max_new_tokens: 3 } })
    expect(short[0]!.tokenCount).toBe(3)
  })

  it("stops when the effect running it is interrupted (a cancelled activity): a few steps in flight at most, then nothing", async () => {
    const runtime = ManagedRuntime.make(InferencePool.layer(poolWithThreads(1, undefined, 1)) as Layer.Layer<InferencePool>)
    try {
      const progress = steps(5)
      let streamed = 0
      const generate = (max: number, onTokens?: (t: readonly StreamedToken[]) => void) =>
        Effect.gen(function* () {
          const pool = yield* InferencePool
          return yield* pool.generate({ model, prompts, params: { ...params, max_new_tokens: max } }, onTokens)
        })
      const fiber = runtime.runFork(generate(4000, (t) => {
        streamed++
        progress.onTokens(t)
      }))
      await progress.done
      await runtime.runPromise(Fiber.interrupt(fiber))
      const atInterrupt = streamed
      const short = await runtime.runPromise(generate(3))
      expect(short[0]!.tokenCount).toBe(3)
      const settled = streamed
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(streamed).toBe(settled)
      expect(streamed - atInterrupt).toBeLessThan(100)
    } finally {
      await runtime.dispose()
    }
  })
})

describe("joining a generation in its inference thread", () => {
  const pool = new ThreadPool(poolWithThreads(1, undefined, 1))
  afterAll(() => pool.close())

  it("settles its result only after every prompt sent to it is answered or returned, also one sent as it ends", async () => {
    const short = { ...params, max_new_tokens: 2 }
    for (let attempt = 0; attempt < 5; attempt++) {
      const events: string[] = []
      const call = pool.startJoinable({ model, prompts, params: short }, {
        onDone: (prompt) => {
          events.push(`done ${prompt}`)
          if (prompt === 0) call.join([{ index: 1, prompt: { ...prompts[0]!, params: short } }])
        },
        onReturned: (returned) => events.push(...returned.map((p) => `returned ${p}`))
      })
      await call.result
      events.push("result")
      expect(events[0]).toBe("done 0")
      expect(events.slice(1)).toSatisfy((rest: string[]) => rest.join() === "done 1,result" || rest.join() === "returned 1,result")
    }
  })
})
