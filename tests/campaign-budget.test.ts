import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningServe } from "../serve/server.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startRateLimiter, startTestCluster, startTinyChatServe, tempDir, writeDemoSpec } from "./support/harness.js"

describe("hard budgets", () => {
  let worker: RunningWorker
  let env: Record<string, string>
  let server: RunningServe

  beforeAll(async () => {
    ;({ env, worker } = await startTestCluster("budget"))
    server = await startTinyChatServe()
  })
  afterAll(async () => {
    await worker?.shutdown()
    await server?.close()
  })

  /** Runs the demo (10 prompts, 4 samples each, 2 rounds, shards of 2 prompts) under `budget`; returns the summary and the status. */
  const runUnder = async (name: string, edit: (spec: Record<string, any>) => void) => {
    const spec = writeDemoSpec(tempDir(name), name, (s) => {
      s.rounds = 2
      s.generator.max_new_tokens = 32
      s.sharding = { prompts_per_shard: 2, max_concurrent_shards: 2 }
      s.output.dataset = name
      edit(s)
    })
    const run = await runCli(["run", spec, "--json"], env)
    const summary = lastJson(run.stdout)
    const status = lastJson((await runCli(["campaign", "status", summary.campaignId, "--json"], env)).stdout)
    return { run, summary, status }
  }

  it("stops launching shards before the samples budget would be exceeded, commits what it has and says which budget stopped it", async () => {
    const { run, summary, status } = await runUnder("budget-samples", (s) => { s.budget = { samples: 50 } })
    expect(run.code).toBe(3)
    expect(run.stderr).toContain("the samples budget of 50 would be exceeded")
    expect(summary).toMatchObject({ outcome: "budget", generated: 48, rounds: 2 })
    expect(status.spent.samples).toBe(48)
  })

  it("keeps generated tokens under the tokens budget, reserving each shard's most before it starts", async () => {
    const { run, summary, status } = await runUnder("budget-tokens", (s) => { s.budget = { tokens: 600 } })
    expect(run.code).toBe(3)
    expect(summary.outcome).toBe("budget")
    expect(status.spent.tokens).toBeLessThanOrEqual(600)
    expect(status.spent.tokens).toBeGreaterThan(0)
    expect(summary.generated).toBe(status.spent.samples)
  })

  it("counts money on a priced remote backend once per sample, also when the generate activity is retried after a 429", async () => {
    const limiter = await startRateLimiter(server.url, 500, 1)
    try {
      const price = { input_per_million: 1000, output_per_million: 2000 }
      const { run, summary, status } = await runUnder("budget-usd", (s) => {
        delete s.generator.model
        s.generator.backend = { type: "openai", base_url: limiter.url, model: "tiny-chat", concurrency: 4, timeout_ms: 60_000, price }
        s.budget = { usd: 5 }
      })
      expect(run.code, run.stderr).toBe(3)
      expect(limiter.seen.some((r) => r.limited)).toBe(true)
      expect(summary.outcome).toBe("budget")
      expect(status.spent.usd).toBeGreaterThan(0)
      expect(status.spent.usd).toBeLessThanOrEqual(5)
      expect(status.spent.usd).toBeCloseTo((status.spent.input_tokens * price.input_per_million + status.spent.tokens * price.output_per_million) / 1e6, 9)
    } finally {
      await limiter.close()
    }
  })

  it("refuses a money budget without a price, naming the field", async () => {
    const spec = writeDemoSpec(tempDir("budget-bad"), "budget-bad", (s) => { s.budget = { usd: 5 } })
    const run = await runCli(["spec", "validate", spec], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("budget.usd: got 5, expected a money budget only with generator.backend.price")
  })
})
