import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { combineScores, normalizeGroup } from "./combine.js"
import { bestOfNGain, corpusDistinctN, roundStats, summarize } from "./roundStats.js"
import { capRecords, maxRecordsPerPrompt, resolveSelection, selectBestOfN, selectPairs } from "./selection.js"
import { decodeSpec } from "./spec.js"

const c = (promptIndex: number, sampleIndex: number, score: number, passed = true) => ({ promptIndex, sampleIndex, score, passed })

describe("per-group normalisation", () => {
  it("z-scores within the group, 0 when all values tie", () => {
    expect(normalizeGroup([1, 2, 3], "zscore").map((x) => Math.round(x * 1e6) / 1e6)).toEqual([-1.224745, 0, 1.224745])
    expect(normalizeGroup([4, 4], "zscore")).toEqual([0, 0])
    expect(normalizeGroup([7], "zscore")).toEqual([0])
  })

  it("ranks into [0, 1] with ties sharing their average rank, 0.5 for a lone sample", () => {
    expect(normalizeGroup([10, 30, 20], "rank")).toEqual([0, 1, 0.5])
    expect(normalizeGroup([1, 1, 2], "rank")).toEqual([0.25, 0.25, 1])
    expect(normalizeGroup([5], "rank")).toEqual([0.5])
  })

  it("leaves non-finite values out of the statistics", () => {
    const z = normalizeGroup([1, Number.NaN, 3], "zscore")
    expect(z[0]).toBeCloseTo(-1, 9)
    expect(Number.isNaN(z[1]!)).toBe(true)
    expect(normalizeGroup([2, Number.NaN], "raw")[0]).toBe(2)
  })
})

describe("weighted combination and hard filters", () => {
  const scorers = [
    { name: "reward", weight: 1, normalize: "zscore" as const },
    { name: "len", weight: 0.5, normalize: "raw" as const },
    { name: "correct", weight: 100, normalize: "raw" as const, filter: { min: 1 } }
  ]

  it("normalises per prompt group, weights, and keeps filters out of the score", () => {
    const rows = [
      { group: 0, scores: { reward: 1, len: 2, correct: 1 } },
      { group: 0, scores: { reward: 3, len: 2, correct: 0 } },
      { group: 1, scores: { reward: 100, len: 4, correct: 1 } }
    ]
    const out = combineScores(rows, scorers)
    expect(out[0]).toEqual({ score: -1 + 1, passed: true, failed: [] })
    expect(out[1]).toEqual({ score: 1 + 1, passed: false, failed: ["correct"] })
    expect(out[2]).toEqual({ score: 0 + 2, passed: true, failed: [] })
  })

  it("fails samples whose ranking value is missing or not finite", () => {
    const out = combineScores([{ group: 0, scores: { reward: Number.NaN, len: 1, correct: 1 } }, { group: 0, scores: { len: 1, correct: 1 } }], scorers)
    expect(out.map((o) => o.failed)).toEqual([["reward"], ["reward"]])
    expect(out.every((o) => Number.isFinite(o.score))).toBe(true)
  })
})

describe("selection policies", () => {
  it("best-of-N keeps the top k per prompt; ties go to the lower sample index", () => {
    expect(selectBestOfN([c(0, 0, 1), c(0, 1, 3), c(0, 2, 3), c(1, 0, 2), c(1, 1, 5)], { k: 1 })).toEqual([c(0, 1, 3), c(1, 1, 5)])
    expect(selectBestOfN([c(0, 0, 2), c(0, 1, 2), c(0, 2, 2)], { k: 2 })).toEqual([c(0, 0, 2), c(0, 1, 2)])
  })

  it("handles N = 1, fewer samples than k, and everything filtered out", () => {
    expect(selectBestOfN([c(0, 0, 1)], { k: 3 })).toEqual([c(0, 0, 1)])
    expect(selectBestOfN([c(0, 0, 5, false), c(0, 1, 9, false)], { k: 1 })).toEqual([])
    expect(selectBestOfN([c(0, 0, 5, false), c(0, 1, 1)], { k: 1 })).toEqual([c(0, 1, 1)])
  })

  it("threshold keeps every passing sample at or above min_score", () => {
    const threshold = resolveSelection({ policy: "threshold", min_score: 2 }, 4)
    expect(threshold.k).toBe(4)
    expect(selectBestOfN([c(0, 0, 1), c(0, 1, 2), c(0, 2, 3), c(1, 0, 2.5, false)], threshold)).toEqual([c(0, 2, 3), c(0, 1, 2)])
  })

  it("forms preference pairs against the worst eligible sample with a minimum margin", () => {
    const group = [c(0, 0, 5), c(0, 1, 4.8), c(0, 2, 1), c(1, 0, 3), c(1, 1, 3)]
    const pairs = selectPairs(group, { k: 1, minMargin: 0.5, rejected: "worst" })
    expect(pairs).toEqual([{ chosen: c(0, 0, 5), rejected: c(0, 2, 1), margin: 4 }])
    expect(selectPairs(group, { k: 2, minMargin: 0.5, rejected: "worst" })).toHaveLength(1)
    expect(selectPairs(group, { k: 2, minMargin: 0, rejected: "worst" }).map((p) => p.rejected.sampleIndex)).toEqual([2, 1])
  })

  it("counts a filtered-out sample as worse than any passing one, and never chooses it", () => {
    const pairs = selectPairs([c(0, 0, 9, false), c(0, 1, 2), c(0, 2, 1)], { k: 1, minMargin: 5, rejected: "worst" })
    expect(pairs).toEqual([{ chosen: c(0, 1, 2), rejected: c(0, 0, 9, false), margin: -7 }])
    expect(selectPairs([c(0, 0, 1, false), c(0, 1, 2, false)], { k: 1, minMargin: 0, rejected: "worst" })).toEqual([])
    expect(selectPairs([c(0, 0, 1)], { k: 1, minMargin: 0, rejected: "worst" })).toEqual([])
  })

  it("draws the rejected sample with the seeded draw", () => {
    const group = [c(0, 0, 5), c(0, 1, 3), c(0, 2, 2), c(0, 3, 1)]
    const first = selectPairs(group, { k: 1, minMargin: 0, rejected: "sampled", draw: () => 0 })
    const last = selectPairs(group, { k: 1, minMargin: 0, rejected: "sampled", draw: () => 0.99 })
    expect(first[0]!.rejected.sampleIndex).toBe(3)
    expect(last[0]!.rejected.sampleIndex).toBe(1)
    const two = selectPairs(group, { k: 2, minMargin: 0, rejected: "sampled", draw: () => 0 })
    expect(two.map((p) => p.rejected.sampleIndex)).toEqual([3, 2])
  })

  it("sizes shards and caps records for accept-until-K", () => {
    expect(maxRecordsPerPrompt(resolveSelection({ policy: "best_of_n" }, 4), 4)).toBe(1)
    expect(maxRecordsPerPrompt(resolveSelection({ policy: "threshold", min_score: 0 }, 4), 4)).toBe(4)
    expect(maxRecordsPerPrompt(resolveSelection({ policy: "preference_pairs", k: 9 }, 4), 4)).toBe(3)
    expect(maxRecordsPerPrompt(resolveSelection({ policy: "preference_pairs" }, 1), 1)).toBe(0)
    expect(capRecords([3, 9, 1, 9, 5], 2, (x) => x)).toEqual([9, 9])
    expect(capRecords([3, 9, 1, 9, 5], 3, (x) => x)).toEqual([9, 9, 5])
    expect(capRecords([1, 2], undefined, (x) => x)).toEqual([1, 2])
    expect(capRecords([1, 2], 0, (x) => x)).toEqual([])
  })
})

describe("round statistics", () => {
  it("summarises with nearest-rank percentiles", () => {
    expect(summarize([5, 1, 4, 2, 3, Number.NaN])).toEqual({ count: 5, mean: 3, min: 1, p10: 1, p50: 3, p90: 5, max: 5 })
    expect(summarize([])).toBeNull()
  })

  it("computes the best-of-N gain as the mean of group bests minus the mean of all", () => {
    expect(bestOfNGain([{ group: 0, value: 1 }, { group: 0, value: 3 }, { group: 1, value: 2 }, { group: 1, value: 2 }])).toBe(2.5 - 2)
    expect(bestOfNGain([])).toBeNull()
  })

  it("measures distinct-n over CJK characters and words", () => {
    expect(corpusDistinctN(["我们我们", "我们"], 1)).toBe(0.333333)
    expect(corpusDistinctN(["the cat", "the dog"], 2)).toBe(1)
    expect(corpusDistinctN(["好"], 2)).toBe(0)
  })

  it("records scores over all samples and accepted ones, rates and truncations", () => {
    const samples = [
      { group: 0, scores: { r: 1 }, score: 1, passed: true },
      { group: 0, scores: { r: 3 }, score: 3, passed: true, truncated: ["r"] },
      { group: 1, scores: { r: 2 }, score: 2, passed: false }
    ]
    const stats = roundStats(2, ["r"], samples, [{ scores: { r: 3 }, score: 3, text: "你好世界" }])
    expect(stats).toMatchObject({ round: 2, samples: 3, prompts: 2, accepted: 1, acceptance_rate: 0.333333, filter_pass_rate: 0.666667, truncated: { r: 1 }, distinct_1: 1 })
    expect(stats.scores.r!.all).toMatchObject({ mean: 2, count: 3 })
    expect(stats.scores.r!.accepted).toMatchObject({ mean: 3, count: 1 })
    expect(stats.scores.r!.best_of_n_gain).toBe(0.5)
    expect(stats.combined.best_of_n_gain).toBe(1)
  })
})

describe("scorer and selection spec", () => {
  const base = { name: "t", prompts: "p", generator: { model: "m" }, output: { dataset: "d" } }
  const issuesOf = (spec: Record<string, unknown>) => {
    const result = decodeSpec({ ...base, scorers: [{ name: "q", type: "heuristic" }], ...spec }, "s")
    return Result.isFailure(result) ? result.failure.issues : []
  }

  it("fills defaults for every scorer family", () => {
    const spec = Result.getOrThrow(decodeSpec({
      ...base,
      scorers: [
        { name: "rm", type: "classifier", model: "m", label_scores: { bad: 0, good: 1 }, normalize: "zscore" },
        { name: "ppl", type: "lm_stats", metric: "perplexity", weight: -1 },
        { name: "ok", type: "verifier", check: "answer_match", filter: { min: 1 } },
        { name: "judge", type: "judge", model: "j", mode: "pairwise" }
      ]
    }, "s"))
    expect(spec.scorers[0]).toMatchObject({ truncation: "right", max_length: 512, normalize: "zscore" })
    expect(spec.scorers[1]).toMatchObject({ max_length: 2048, batch_size: 4, normalize: "raw" })
    expect(spec.scorers[2]).toMatchObject({ match: "numeric", tolerance: 1e-6, missing_reference: "fail", filter: { min: 1 } })
    expect(spec.scorers[3]).toMatchObject({ ratings: ["1", "2", "3", "4", "5"], verdicts: ["A", "B"] })
  })

  it("rejects cross-field mistakes naming the field", () => {
    const scorers = [
      { name: "a", type: "heuristic", metric: "regex" },
      { name: "a", type: "heuristic", metric: "regex", pattern: "(" },
      { name: "b", type: "verifier", check: "json_schema" },
      { name: "c", type: "heuristic", filter: {} },
      { name: "d", type: "judge", model: "j", ratings: ["1", "2"], rating_values: [1] },
      { name: "e", type: "verifier", check: "json_schema", schema: { type: "nonsense" } }
    ]
    const paths = issuesOf({ scorers }).map((i) => i.path)
    expect(paths).toEqual(["scorers[0].pattern", "scorers[1].name", "scorers[1].pattern", "scorers[2].schema", "scorers[3].filter", "scorers[4].rating_values", "scorers[5].schema"])
    expect(issuesOf({ selection: { policy: "threshold" } })).toEqual([{ path: "selection.min_score", value: undefined, expected: "a number (policy threshold keeps samples scoring at least this)" }])
    expect(issuesOf({ selection: { policy: "best_of_n", rejected: "worst" } }).map((i) => i.path)).toEqual(["selection.rejected"])
    expect(issuesOf({ selection: { policy: "pairs" } }).map((i) => i.path)).toEqual(["selection.policy"])
    expect(issuesOf({ selection: { policy: "preference_pairs", rejected: "sampled", min_margin: 0.5, accept_until: 100 } })).toEqual([])
  })
})
