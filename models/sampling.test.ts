import { describe, expect, it } from "vitest"
import { sampleSeed } from "../core/seeds.js"
import { Rng } from "../core/rng.js"
import { distributionStats, sampleToken, topK } from "./sampling.js"

const randomLogits = (n: number, seed: number) => {
  const rng = new Rng([seed, 1, 2, 3])
  return Float32Array.from({ length: n }, () => rng.next() * 10 - 5)
}
const base = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1 }

describe("sampling", () => {
  it("topK returns the k largest ids in order, like a full sort", () => {
    const logits = randomLogits(5000, 1)
    const sorted = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
    expect(Array.from(topK(logits, 50))).toEqual(sorted.slice(0, 50))
  })

  it("greedy picks the argmax and reports the model's own log-probability and entropy", () => {
    const logits = Float32Array.from([0, 2, 1])
    const pick = sampleToken(logits, 0, 3, { ...base, temperature: 0 }, new Rng([1, 2, 3, 4]))
    const z = Math.log(1 + Math.exp(2) + Math.exp(1))
    expect(pick.token).toBe(1)
    expect(pick.logprob).toBeCloseTo(2 - z, 6)
    const p = [0, 2, 1].map((x) => Math.exp(x - z))
    expect(pick.entropy).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 6)
  })

  it("reports the step's most likely tokens with their log-probabilities under the model's own distribution when asked", () => {
    const logits = randomLogits(3000, 7)
    const { logZ } = distributionStats(logits)
    const sorted = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
    const pick = sampleToken(logits, 0, 3000, { ...base, temperature: 0.7, top_k: 20, top_logprobs: 5 }, new Rng([1, 2, 3, 4]))
    expect(pick.alternatives!.map((a) => a.token)).toEqual(sorted.slice(0, 5))
    pick.alternatives!.forEach((a) => expect(a.logprob).toBeCloseTo(logits[a.token]! - logZ, 5))
    expect(sampleToken(logits, 0, 3000, base, new Rng([1, 2, 3, 4])).alternatives).toBeUndefined()
  })

  it("top-p keeps only the nucleus: with one dominant token nothing else is drawn", () => {
    const logits = Float32Array.from([10, 0, 0, 0, 0])
    const rng = new Rng([9, 9, 9, 9])
    for (let i = 0; i < 200; i++) expect(sampleToken(logits, 0, 5, { ...base, top_p: 0.9 }, rng).token).toBe(0)
  })

  it("top-k restricts draws to the k best tokens and matches their softmax frequencies", () => {
    const logits = Float32Array.from([1, 0.5, 3, 2, -1, 0])
    const rng = new Rng([4, 3, 2, 1])
    const counts = new Map<number, number>()
    const draws = 20000
    for (let i = 0; i < draws; i++) {
      const t = sampleToken(logits, 0, 6, { ...base, top_k: 2 }, rng).token
      counts.set(t, (counts.get(t) ?? 0) + 1)
    }
    expect([...counts.keys()].sort()).toEqual([2, 3])
    expect(counts.get(2)! / draws).toBeCloseTo(Math.exp(3) / (Math.exp(3) + Math.exp(2)), 1)
  })

  it("without top-k, the nucleus grows until it holds top_p of the mass", () => {
    const logits = new Float32Array(1000).fill(0)
    const rng = new Rng([5, 6, 7, 8])
    const seen = new Set<number>()
    for (let i = 0; i < 3000; i++) seen.add(sampleToken(logits, 0, 1000, { ...base, top_p: 0.5 }, rng).token)
    expect(seen.size).toBeGreaterThan(400)
    expect(Math.max(...seen)).toBeLessThan(500)
  })

  it("min-p drops tokens far below the best one", () => {
    const logits = Float32Array.from([5, 4.9, 0, 0, 0])
    const rng = new Rng([1, 1, 1, 1])
    for (let i = 0; i < 500; i++) expect(sampleToken(logits, 0, 5, { ...base, min_p: 0.1 }, rng).token).toBeLessThan(2)
  })

  it("repetition penalty lowers tokens already seen", () => {
    const logits = Float32Array.from([2, 1.9])
    const pick = sampleToken(logits, 0, 2, { ...base, temperature: 0, repetition_penalty: 2 }, new Rng([1, 1, 1, 1]), new Set([0]))
    expect(pick.token).toBe(1)
  })

  it("seeds depend on every coordinate and nothing else", () => {
    const s = sampleSeed({ seed: 1, round: 1, promptId: "p", sampleIndex: 0 })
    expect(sampleSeed({ seed: 1, round: 1, promptId: "p", sampleIndex: 0 })).toEqual(s)
    for (const other of [{ seed: 2 }, { round: 2 }, { promptId: "q" }, { sampleIndex: 1 }]) {
      expect(sampleSeed({ seed: 1, round: 1, promptId: "p", sampleIndex: 0, ...other })).not.toEqual(s)
    }
    const a = new Rng(s)
    const b = new Rng(s)
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()))
  })

  it("distributionStats is stable for large logits", () => {
    const stats = distributionStats(Float32Array.from([1000, 1000]))
    expect(stats.logZ).toBeCloseTo(1000 + Math.log(2), 6)
    expect(stats.entropy).toBeCloseTo(Math.log(2), 6)
  })
})
