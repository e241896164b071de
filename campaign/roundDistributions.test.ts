import { describe, expect, it } from "vitest"
import { languageMix, pearson, scoreCorrelations, scoreHistogram, spearman } from "./roundDistributions.js"
import { roundStats } from "./roundStats.js"

describe("round distributions", () => {
  it("bins all and kept values on the same edges, leaving non-finite values out", () => {
    const h = scoreHistogram([0, 1, 2, 3, Number.NaN], [3], 3)!
    expect(h).toEqual({ lo: 0, hi: 3, all: [1, 1, 2], kept: [0, 0, 1] })
    expect(scoreHistogram([2, 2], [2], 2)).toEqual({ lo: 2, hi: 3, all: [2, 0], kept: [1, 0] })
    expect(scoreHistogram([Number.NaN], [])).toBeNull()
  })

  it("correlates scores by Pearson and by rank, null without spread or enough pairs", () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBe(1)
    expect(pearson([1, 2, 3], [3, 2, 1])).toBe(-1)
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull()
    expect(pearson([1, 2], [1, 2])).toBeNull()
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 100])).toBe(1)
    expect(spearman([1, 2, 2, 3], [1, 2, 2, 3])).toBe(1)
    const pairs = scoreCorrelations([{ name: "a", values: [1, 2, 3, Number.NaN] }, { name: "b", values: [1, 2, 4, 5] }])
    expect(pairs).toEqual([{ a: "a", b: "b", n: 3, pearson: 0.981981, spearman: 1 }])
  })

  it("counts languages by script", () => {
    expect(languageMix(["你好世界", "hello world", "こんにちはカタカナ", "!! …。", "中文 and English 混合的句子"])).toEqual({ zh: 2, latin: 1, ja: 1, none: 1 })
  })

  it("records lengths, languages, cut samples, histograms and correlations in a round's statistics", () => {
    const samples = [
      { group: 0, scores: { r: 1, q: 0 }, score: 1, passed: true, text: "你好", tokens: 2, finish: "eos" },
      { group: 0, scores: { r: 3, q: 1 }, score: 3, passed: true, text: "hello there friend", tokens: 4, finish: "length" },
      { group: 1, scores: { r: 2, q: 1 }, score: 2, passed: true, text: "good", tokens: 1, finish: "eos" }
    ]
    const stats = roundStats(1, ["r", "q"], samples, [{ scores: { r: 3, q: 1 }, score: 3, text: "hello there friend", tokens: 4 }])
    expect(stats.length_stopped).toBe(1)
    expect(stats.lengths?.tokens.all).toMatchObject({ mean: 2.333333, max: 4 })
    expect(stats.lengths?.units.accepted).toMatchObject({ mean: 3 })
    expect(stats.languages).toEqual({ all: { zh: 1, latin: 2 }, accepted: { latin: 1 } })
    expect(stats.histograms?.scores.r?.all.reduce((a, b) => a + b, 0)).toBe(3)
    expect(stats.histograms?.combined?.kept.reduce((a, b) => a + b, 0)).toBe(1)
    expect(stats.correlations?.map((c) => [c.a, c.b, c.n])).toEqual([["r", "q", 3], ["r", "score", 3], ["q", "score", 3]])
  })
})
