import { describe, expect, it } from "vitest"
import {
  curriculumFitsInline,
  decodeCurriculum,
  emptyCurriculum,
  encodeCurriculum,
  roundPassRate,
  statsById,
  tallyOf,
  updatePassRates
} from "./passRates.js"

const r = (promptId: string, samples: number, passed: number, extra: { kept?: number; hinted?: boolean } = {}) => ({ promptId, samples, passed, ...extra })

describe("updatePassRates", () => {
  it("sums attempts and passes over rounds and remembers the last round seen", () => {
    let state = updatePassRates(emptyCurriculum(), [r("b", 4, 1, { kept: 1 }), r("a", 4, 0)], 1)
    state = updatePassRates(state, [r("b", 4, 3, { kept: 1 })], 2)
    expect(state.prompts).toEqual([
      ["a", 4, 0, 1, 4, 0, -1, 0],
      ["b", 8, 4, 2, 4, 3, -1, 2]
    ])
    expect(tallyOf(state, "b")).toMatchObject({ attempts: 8, passes: 4, passRate: 0.5, lastRound: 2, lastSamples: 4, lastPasses: 3, records: 2 })
    expect(tallyOf(state, "zz")).toBeUndefined()
    expect(state.rounds).toEqual([[1, 8, 1], [2, 4, 3]])
    expect(roundPassRate(state, 1)).toBe(0.125)
    expect(roundPassRate(state, 3)).toBeUndefined()
  })

  it("keeps hinted copies out of the pass rate but counts their records", () => {
    const state = updatePassRates(emptyCurriculum(), [r("a", 4, 0), r("a", 4, 4, { kept: 2, hinted: true })], 3)
    expect(tallyOf(state, "a")).toMatchObject({ attempts: 4, passes: 0, lastPasses: 0, hintedRound: 3, records: 2 })
    expect(state.rounds).toEqual([[3, 4, 0]])
  })

  it("adds the shards of one round together", () => {
    const one = updatePassRates(emptyCurriculum(), [r("a", 2, 1), r("b", 2, 2)], 1)
    const split = updatePassRates(updatePassRates(emptyCurriculum(), [r("b", 2, 2)], 1), [r("a", 2, 1)], 1)
    expect(split).toEqual(one)
    const twice = updatePassRates(updatePassRates(emptyCurriculum(), [r("a", 2, 1)], 1), [r("a", 3, 0)], 1)
    expect(tallyOf(twice, "a")).toMatchObject({ attempts: 5, passes: 1, lastSamples: 5, lastPasses: 1 })
  })

  it("does not change the state it is given", () => {
    const before = updatePassRates(emptyCurriculum(), [r("a", 2, 1)], 1)
    const copy = JSON.parse(JSON.stringify(before))
    updatePassRates(before, [r("a", 2, 2), r("c", 1, 0)], 2)
    expect(before).toEqual(copy)
  })

  it("ignores results without samples except for their records", () => {
    const state = updatePassRates(emptyCurriculum(), [r("a", 0, 0, { kept: 0 })], 1)
    expect(tallyOf(state, "a")).toMatchObject({ attempts: 0, lastRound: -1, passRate: undefined })
  })

  it("refuses earlier rounds and impossible counts", () => {
    const state = updatePassRates(emptyCurriculum(), [r("a", 2, 1)], 2)
    expect(() => updatePassRates(state, [r("a", 2, 1)], 1)).toThrow(/round 1 is before the state's latest round 2/)
    expect(() => updatePassRates(state, [r("a", 2, 3)], 3)).toThrow(/results\[0\]\.passed \(3\) is more than its samples \(2\)/)
    expect(() => updatePassRates(state, [r("a", -1, 0)], 3)).toThrow(/samples must be an integer ≥ 0/)
    expect(() => updatePassRates(state, [r("a", 1, 0, { kept: 0.5 })], 3)).toThrow(/kept/)
  })

  it("handles Chinese prompt ids and sorts ids by code unit", () => {
    const state = updatePassRates(emptyCurriculum(), [r("题目-二", 1, 1), r("题目-一", 1, 0), r("B", 1, 0)], 1)
    expect(state.prompts.map((t) => t[0])).toEqual(["B", "题目-一", "题目-二"])
    expect(statsById(state).get("题目-二")?.passRate).toBe(1)
  })
})

describe("curriculum state as a file", () => {
  it("round-trips through its encoding, equal states giving equal text", () => {
    const a = updatePassRates(emptyCurriculum(), [r("x", 4, 2), r("y", 4, 0, { kept: 1 })], 1)
    const b = updatePassRates(emptyCurriculum(), [r("y", 4, 0, { kept: 1 }), r("x", 4, 2)], 1)
    expect(encodeCurriculum(a)).toBe(encodeCurriculum(b))
    expect(decodeCurriculum(encodeCurriculum(a))).toEqual(a)
  })

  it("names the bad entry of a malformed file", () => {
    expect(() => decodeCurriculum("{}")).toThrow(/expected \{version: 1/)
    expect(() => decodeCurriculum('{"version":1,"prompts":[["a",1,2]],"rounds":[]}')).toThrow(/prompts\[0\]/)
    expect(() => decodeCurriculum('{"version":1,"prompts":[],"rounds":[[1,-2,0]]}')).toThrow(/rounds\[0\]/)
  })

  it("says when the state is too large to travel inline", () => {
    const results = Array.from({ length: 3000 }, (_, i) => r(`p-${i.toString(16).padStart(16, "0")}`, 8, i % 9))
    const state = updatePassRates(emptyCurriculum(), results, 1)
    expect(curriculumFitsInline(state)).toBe(false)
    expect(curriculumFitsInline(updatePassRates(emptyCurriculum(), results.slice(0, 100), 1))).toBe(true)
    const chinese = updatePassRates(emptyCurriculum(), [r("题", 1, 1)], 1)
    const chars = encodeCurriculum(chinese).length
    expect(curriculumFitsInline(chinese, chars + 2)).toBe(true)
    expect(curriculumFitsInline(chinese, chars + 1)).toBe(false)
  })
})
