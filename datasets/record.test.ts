import { describe, expect, it } from "vitest"
import { mergeSorted } from "./merge.js"
import { recordId } from "./record.js"
import { encodeSegment } from "./segments.js"
import { ScoreAccumulator } from "./stats.js"
import { dpo, sft } from "./test-fixtures.js"

describe("recordId", () => {
  it("depends on content only, not on scores, round, prompt id or meta", () => {
    const a = sft("q", "answer", 0.1, 1)
    const b = { ...a, score: 0.9, scores: { other: 1 }, round: 7, prompt_id: "x", meta: { seed: 3 } }
    expect(recordId(b)).toBe(a.id)
    expect(a.id).toMatch(/^[0-9a-f]{64}$/)
  })

  it("changes with the response, the messages and the kind", () => {
    const a = sft("q", "answer", 0.5)
    expect(sft("q", "answer!", 0.5).id).not.toBe(a.id)
    expect(sft("q2", "answer", 0.5).id).not.toBe(a.id)
    expect(dpo("q", "answer", "other").id).not.toBe(dpo("q", "other", "answer").id)
  })

  it("separates Chinese text that differs by one character", () => {
    expect(sft("翻译", "你好世界", 1).id).not.toBe(sft("翻译", "你好世間", 1).id)
  })
})

describe("segment encoding", () => {
  it("sorts by id and gives the same bytes for any input order", () => {
    const records = [sft("a", "1", 1), sft("b", "2", 2), sft("c", "3", 3)]
    const forward = encodeSegment(records)
    expect(encodeSegment([...records].reverse()).equals(forward)).toBe(true)
    const ids = forward.toString("utf8").trimEnd().split("\n").map((line) => JSON.parse(line).id)
    expect(ids).toEqual(records.map((r) => r.id).sort())
  })
})

describe("mergeSorted", () => {
  it("merges sorted async sources into one sorted stream", async () => {
    const source = async function*(values: Array<number>) { yield* values }
    const merged: Array<number> = []
    for await (const value of mergeSorted([source([1, 4, 9]), source([]), source([2, 3, 10]), source([4])], (a, b) => a - b)) {
      merged.push(value)
    }
    expect(merged).toEqual([1, 2, 3, 4, 4, 9, 10])
  })
})

describe("ScoreAccumulator", () => {
  it("computes nearest-rank percentiles and null for no scores", () => {
    const acc = new ScoreAccumulator()
    expect(acc.summary()).toBeNull()
    for (let i = 1; i <= 2000; i++) acc.add(i)
    expect(acc.summary()).toEqual({ mean: 1000.5, min: 1, max: 2000, p50: 1000, p90: 1800 })
  })
})
