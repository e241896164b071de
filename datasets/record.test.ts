import { describe, expect, it } from "vitest"
import { canonicalJson, sha256 } from "../core/hash.js"
import { Effect, Exit } from "effect"
import { contentJson, DatasetRecord, recordId } from "./record.js"
import { isWellFormedRecord } from "./recordCheck.js"
import { recordRow, stagedRow } from "./segmentFormat.js"
import { decodeInput } from "./validate.js"
import { canonicalRecords } from "./segments.js"
import { dpo, sft } from "../tests/support/storeFixtures.js"

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

  it("hashes the same bytes as canonical JSON of the content fields", () => {
    const tricky = 'quote " backslash \\ newline \n tab \t 中文 emoji 🙂 \u2028'
    const cases = [sft(tricky, tricky, 1), dpo(tricky, `${tricky}!`, "", 0), sft("", "", 0)]
    for (const record of cases) {
      const content = record.kind === "sft"
        ? { kind: record.kind, messages: record.messages.map((m) => ({ role: m.role, content: m.content })), response: record.response }
        : { kind: record.kind, messages: record.messages.map((m) => ({ role: m.role, content: m.content })), chosen: record.chosen, rejected: record.rejected }
      expect(contentJson(record)).toBe(canonicalJson(content))
      expect(record.id).toBe(sha256(canonicalJson(content)))
    }
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

describe("staging fast paths", () => {
  const schemaAccepts = (value: unknown) => Exit.isSuccess(Effect.runSyncExit(decodeInput(DatasetRecord, "test")(value)))
  const good = [sft("q", "a", 0.5), dpo("问", "好", "坏"), { ...sft("q", "a", 1), reference: "r", meta: { x: [1] }, sample_index: 2 }]
  const bad: Array<unknown> = [
    null, [], { ...sft("q", "a", 1), kind: "kto" }, { ...sft("q", "a", 1), extra: 1 }, { ...sft("q", "a", 1), score: Number.NaN },
    { ...sft("q", "a", 1), round: -1 }, { ...sft("q", "a", 1), messages: [{ role: "robot", content: "x" }] },
    { ...sft("q", "a", 1), messages: [{ role: "user", content: "x", name: "n" }] }, { ...sft("q", "a", 1), scores: { r: "1" } },
    { ...sft("q", "a", 1), sample_index: 1.5 }, { ...dpo("q", "a", "b"), response: "x" }, { ...dpo("q", "a", "b"), score_chosen: "1" },
    { ...sft("q", "a", 1), meta: [] }, { ...sft("q", "a", 1), response: undefined }
  ]

  it("accepts and rejects records exactly as the schema does", () => {
    for (const value of good) {
      expect(isWellFormedRecord(value)).toBe(true)
      expect(schemaAccepts(value)).toBe(true)
    }
    for (const value of bad) {
      expect(isWellFormedRecord(value), JSON.stringify(value)).toBe(false)
      expect(schemaAccepts(value), JSON.stringify(value)).toBe(false)
    }
  })

  it("encodes staging rows exactly like JSON.stringify of the row object, with the content's id", () => {
    for (const record of good) {
      expect(stagedRow(record).row).toBe(JSON.stringify(recordRow(record)))
      expect(stagedRow(record).contentId).toBe(recordId(record))
    }
  })
})
