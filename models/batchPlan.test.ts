import { describe, expect, it } from "vitest"
import { type BatchBudget, planBatches } from "./batchPlan.js"

const budget: BatchBudget = { maxRows: 8, maxKvTokens: 1000, maxPrefillTokens: 300, maxPaddingRatio: 1.25 }

describe("planBatches", () => {
  const lengths = [100, 20, 22, 90, 21, 400, 95]
  const samples = [4, 8, 2, 12, 1, 3, 0]
  const plan = planBatches(lengths, samples, 50, budget)

  it("plans every sample exactly once, in order within each prompt", () => {
    const seen = new Map<number, number[]>()
    for (const batch of plan) for (const g of batch) seen.set(g.prompt, [...(seen.get(g.prompt) ?? []), ...Array.from({ length: g.samples }, (_, i) => g.firstSample + i)])
    samples.forEach((n, p) => expect(seen.get(p) ?? []).toEqual(Array.from({ length: n }, (_, i) => i)))
  })

  it("keeps each batch within the row, KV-token, prefill and padding budgets (a lone over-long prompt excepted)", () => {
    for (const batch of plan) {
      const rows = batch.reduce((n, g) => n + g.samples, 0)
      const width = Math.max(...batch.map((g) => lengths[g.prompt]!))
      if (batch.length === 1 && batch[0]!.samples === 1) continue
      expect(rows).toBeLessThanOrEqual(budget.maxRows)
      expect(rows * (width + 50)).toBeLessThanOrEqual(budget.maxKvTokens)
      if (batch.length > 1) expect(width * batch.length).toBeLessThanOrEqual(budget.maxPrefillTokens)
      expect(width * batch.length).toBeLessThanOrEqual(budget.maxPaddingRatio * batch.reduce((n, g) => n + lengths[g.prompt]!, 0))
    }
  })

  it("groups prompts of similar length together and never mixes short with long ones", () => {
    const mixed = plan.filter((b) => b.length > 1)
    expect(mixed.length).toBeGreaterThan(0)
    for (const batch of mixed) {
      const ls = batch.map((g) => lengths[g.prompt]!)
      expect(Math.max(...ls) / Math.min(...ls)).toBeLessThan(1.25)
    }
  })
})
