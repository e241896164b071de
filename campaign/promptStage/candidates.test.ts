import { describe, expect, it } from "vitest"
import { lengthProblem, normalizedPromptKey, screenCandidates } from "./candidates.js"
import { buildEvalIndex } from "./decontamination.js"

describe("normalizedPromptKey", () => {
  it("ignores case, width, whitespace and punctuation in both scripts", () => {
    expect(normalizedPromptKey(" Write a POEM! ")).toBe(normalizedPromptKey("write a poem."))
    expect(normalizedPromptKey("写一首诗，关于秋天。")).toBe(normalizedPromptKey("写一首诗 关于秋天"))
    expect(normalizedPromptKey("ＡＢＣ１２３？")).toBe("abc123")
    expect(normalizedPromptKey("写一首诗")).not.toBe(normalizedPromptKey("写一首词"))
  })
})

describe("lengthProblem", () => {
  it("counts CJK characters and words", () => {
    expect(lengthProblem("  ")).toBe("empty")
    expect(lengthProblem("写诗")).toBe("too_short")
    expect(lengthProblem("写一首诗")).toBeUndefined()
    expect(lengthProblem("Write poems")).toBe("too_short")
    expect(lengthProblem("Write a poem")).toBeUndefined()
    expect(lengthProblem("字".repeat(401))).toBe("too_long")
    expect(lengthProblem("写一首诗", { minUnits: 1, maxUnits: 3 })).toBe("too_long")
  })
})

describe("screenCandidates", () => {
  it("drops exact and normalised duplicates of earlier prompts and of each other", () => {
    const out = screenCandidates(
      ["写一首关于秋天的诗。", " 写一首关于秋天的诗。 ", "写一首关于秋天的诗！", "Explain black holes.", "explain black holes", "列出三种可再生能源"],
      { earlier: ["Explain black holes."] }
    )
    expect(out.kept).toEqual(["写一首关于秋天的诗。", "列出三种可再生能源"])
    expect(out.dropped).toMatchObject({ duplicate_exact: 2, duplicate_normalized: 2 })
  })

  it("drops empty, short, long and contaminated candidates, counting each reason", () => {
    const evalIndex = buildEvalIndex(["小明有 5 个苹果，给了小红 2 个，又买了 3 个，现在小明有几个苹果？"])
    const out = screenCandidates(["", "hi", "字".repeat(500), "小明有5个苹果，给了小红2个，又买了3个，现在小明有几个苹果", "小红有三本书，借给同学一本，还剩几本？"], { evalIndex })
    expect(out.kept).toEqual(["小红有三本书，借给同学一本，还剩几本？"])
    expect(out.dropped).toEqual({ empty: 1, too_short: 1, too_long: 1, duplicate_exact: 0, duplicate_normalized: 0, contaminated: 1 })
  })
})
