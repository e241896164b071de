import { describe, expect, it } from "vitest"
import { recordId } from "./record.js"
import { canonicalRecords } from "./segments.js"
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

describe("canonicalRecords", () => {
  it("keeps one best copy per id, sorted by id, whatever the input order", () => {
    const records = [sft("a", "1", 1), sft("b", "2", 2), sft("c", "3", 3)]
    const better = { ...records[1], score: 5 }
    const forward = canonicalRecords([...records, better])
    expect(canonicalRecords([better, ...records].reverse())).toEqual(forward)
    expect(forward.map((r) => r.id)).toEqual(records.map((r) => r.id).sort())
    expect(forward.find((r) => r.id === better.id)?.score).toBe(5)
  })
})
