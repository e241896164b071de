import { describe, expect, it } from "vitest"
import { arithmeticKey, arithmeticProblem, expressionCount, generateArithmetic } from "./arithmetic.js"

describe("arithmetic problem strings", () => {
  it("writes the English prompt, worked solution and reference", () => {
    expect(arithmeticProblem("12 + 7 - 5", "en")).toMatchObject({
      prompt: "What is 12 + 7 - 5?",
      solution: "12 + 7 = 19, 19 - 5 = 14. The answer is 14.",
      reference: "14",
      lang: "en",
      difficulty: 2,
      source: "arithmetic"
    })
  })

  it("writes the Chinese prompt and solution with full-width separators", () => {
    expect(arithmeticProblem("12 + 7 - 5", "zh")).toMatchObject({
      prompt: "计算 12 + 7 - 5 等于多少？",
      solution: "12 + 7 = 19，19 - 5 = 14。答案是 14。",
      reference: "14",
      lang: "zh"
    })
  })

  it("evaluates left to right and writes negative intermediates with a minus sign", () => {
    expect(arithmeticProblem("3 - 6 + 2", "en").solution).toBe("3 - 6 = -3, -3 + 2 = -1. The answer is -1.")
    expect(arithmeticProblem("3 - 6 - 1", "zh").solution).toBe("3 - 6 = -3，-3 - 1 = -4。答案是 -4。")
    expect(arithmeticProblem("3 - 6 - 1", "zh").reference).toBe("-4")
    expect(arithmeticProblem("20 - 1", "en").solution).toBe("20 - 1 = 19. The answer is 19.")
  })

  it("gives stable ids that differ by language", () => {
    const en = arithmeticProblem("12 + 7 - 5", "en")
    expect(en.id).toMatch(/^arith-[0-9a-f]{12}$/)
    expect(arithmeticProblem("12 + 7 - 5", "en").id).toBe(en.id)
    expect(arithmeticProblem("12 + 7 - 5", "zh").id).not.toBe(en.id)
  })
})

describe("expression keys", () => {
  it("reads the same key from the Chinese and English prompt", () => {
    expect(arithmeticKey("What is 12 + 7 - 5?")).toBe("12 + 7 - 5")
    expect(arithmeticKey("计算 12 + 7 - 5 等于多少？")).toBe("12 + 7 - 5")
  })

  it("folds full-width forms, minus signs, spacing and leading zeros", () => {
    expect(arithmeticKey("计算 １２＋7 − 05 等于多少？")).toBe("12 + 7 - 5")
    expect(arithmeticKey("12+7-5")).toBe("12 + 7 - 5")
  })

  it("is undefined when the text holds no expression", () => {
    expect(arithmeticKey("写一首关于秋天的诗")).toBeUndefined()
    expect(arithmeticKey("The answer is 14.")).toBeUndefined()
  })
})

describe("generateArithmetic", () => {
  const request = { seed: 7, count: 40, difficulty: { min: 1, max: 3 }, langs: ["zh", "en"] as const }

  it("is deterministic for a seed, and a longer request starts with a shorter one", () => {
    const a = generateArithmetic(request)
    expect(generateArithmetic(request)).toEqual(a)
    expect(generateArithmetic({ ...request, count: 10 })).toEqual(a.slice(0, 10))
    expect(generateArithmetic({ ...request, seed: 8 })).not.toEqual(a)
    expect(generateArithmetic({ ...request, seed: "7" })).toEqual(a)
  })

  it("alternates languages and keeps operands and difficulties in range", () => {
    const problems = generateArithmetic(request)
    expect(problems.map((p) => p.lang).slice(0, 4)).toEqual(["zh", "en", "zh", "en"])
    for (const p of problems) {
      const tokens = arithmeticKey(p.prompt)!.split(" ")
      expect(tokens.length).toBe(2 * p.difficulty + 1)
      expect(p.difficulty).toBeGreaterThanOrEqual(1)
      expect(p.difficulty).toBeLessThanOrEqual(3)
      for (const n of tokens.filter((_, i) => i % 2 === 0).map(Number)) expect(n >= 1 && n <= 20).toBe(true)
      expect(arithmeticProblem(arithmeticKey(p.prompt)!, p.lang)).toEqual(p)
    }
    expect(new Set(problems.map((p) => p.difficulty)).size).toBe(3)
  })

  it("never repeats an expression within a call, whatever its language", () => {
    const problems = generateArithmetic({ seed: 1, count: 800, difficulty: 1, langs: ["zh", "en"] })
    expect(new Set(problems.map((p) => arithmeticKey(p.prompt))).size).toBe(800)
    expect(() => generateArithmetic({ seed: 1, count: 801, difficulty: 1, langs: ["en"] })).toThrow(/hold only 800/)
  })

  it("never emits an excluded expression, so held-out sets stay clean", () => {
    const heldOut = generateArithmetic({ seed: "eval", count: 300, difficulty: 1, langs: ["en"] })
    const exclude = new Set(heldOut.map((p) => arithmeticKey(p.prompt)!))
    const train = generateArithmetic({ seed: "train", count: 400, difficulty: 1, langs: ["zh"], exclude })
    expect(train.filter((p) => exclude.has(arithmeticKey(p.prompt)!))).toEqual([])
    expect(train).toHaveLength(400)
  })

  it("fails clearly when exclusions leave too few expressions", () => {
    const all = new Set(generateArithmetic({ seed: 0, count: 800, difficulty: 1, langs: ["en"] }).map((p) => arithmeticKey(p.prompt)!))
    expect(() => generateArithmetic({ seed: 0, count: 1, difficulty: 1, langs: ["en"], exclude: all })).toThrow(/found only 0 of 1/)
  })

  it("draws difficulties by weight", () => {
    const problems = generateArithmetic({ seed: 3, count: 400, difficulty: { weights: { 2: 3, 5: 1, 9: 0 } }, langs: ["en"] })
    const twos = problems.filter((p) => p.difficulty === 2).length
    expect(problems.every((p) => p.difficulty === 2 || p.difficulty === 5)).toBe(true)
    expect(twos).toBeGreaterThan(260)
    expect(twos).toBeLessThan(340)
  })

  it("rejects bad difficulties, counts and languages, naming the field", () => {
    expect(() => generateArithmetic({ ...request, difficulty: 0 })).toThrow(/difficulty must be an integer ≥ 1, got 0/)
    expect(() => generateArithmetic({ ...request, difficulty: { min: 3, max: 2 } })).toThrow(/min 3 is above max 2/)
    expect(() => generateArithmetic({ ...request, difficulty: { weights: { 1: 0 } } })).toThrow(/positive weight/)
    expect(() => generateArithmetic({ ...request, count: -1 })).toThrow(/count/)
    expect(() => generateArithmetic({ ...request, langs: [] })).toThrow(/langs/)
    expect(generateArithmetic({ ...request, count: 0 })).toEqual([])
  })

  it("counts the distinct expressions of a difficulty", () => {
    expect(expressionCount(1)).toBe(800)
    expect(expressionCount(2)).toBe(32_000)
  })
})
