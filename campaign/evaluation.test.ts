import { describe, expect, it } from "vitest"
import { evalStatsOf, passAtK, passesVerifiers, reportedKs } from "./evaluation.js"
import type { ScoredRow } from "./rows.js"

const row = (prompt: string, correct: number, score = correct): ScoredRow => ({
  prompt_index: 0, prompt_id: prompt, sample_index: 0, text: "", finish: "eos", token_count: 1, prompt_tokens: 1,
  scores: { correct, reward: score / 2 }, score, passed: true, logprob_mean: null
})

describe("held-out evaluation", () => {
  it("estimates pass@k without bias: 1 − C(n−c,k)/C(n,k)", () => {
    expect(passAtK(4, 0, 1)).toBe(0)
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 12)
    expect(passAtK(4, 1, 4)).toBe(1)
    expect(passAtK(8, 2, 2)).toBeCloseTo(1 - (6 * 5) / (8 * 7), 12)
    expect(passAtK(100, 3, 10)).toBeCloseTo(1 - (90 * 89 * 88) / (100 * 99 * 98), 12)
    expect(() => passAtK(2, 1, 4)).toThrow(/at least 4 samples/)
    expect(reportedKs(1)).toEqual([1])
    expect(reportedKs(8)).toEqual([1, 2, 4, 8])
    expect(reportedKs(6)).toEqual([1, 2, 4, 6])
  })

  it("counts a sample as passing only when every verifier accepts it", () => {
    expect(passesVerifiers({ a: 1, b: 1 }, ["a", "b"])).toBe(true)
    expect(passesVerifiers({ a: 1, b: 0 }, ["a", "b"])).toBe(false)
    expect(passesVerifiers({ a: 1, b: null }, ["a", "b"])).toBe(false)
    expect(passesVerifiers({ a: 1 }, [])).toBe(false)
  })

  it("averages pass@1 and pass@k over prompts, and the mean of every score", () => {
    const rows = [row("p1", 1), row("p1", 0), row("p1", 0), row("p1", 0), row("p2", 1), row("p2", 1), row("p2", 0), row("p2", 1)]
    const stats = evalStatsOf(2, "hash", 4, rows, ["correct"], ["correct", "reward"])
    expect(stats).toMatchObject({ round: 2, model_hash: "hash", prompts: 2, samples: 8 })
    expect(stats.pass_at_1).toBeCloseTo((0.25 + 0.75) / 2, 6)
    expect(stats.pass_at_k["4"]).toBe(1)
    expect(stats.pass_at_k["2"]).toBeCloseTo(((1 - 3 / 6) + 1) / 2, 6)
    expect(stats.mean_score).toBeCloseTo(0.5, 6)
    expect(stats.scores.reward).toBeCloseTo(0.25, 6)
  })
})
