import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { answersMatch, extractAnswer, lastBoxed, parseChineseNumber, parseNumber } from "./answer.js"
import type { ScoreInput } from "./contract.js"
import { compileJsonSchema } from "../core/jsonSchema.js"
import { answerMatchScore, verifierFamily } from "./verifier.js"

const sample = (response: string, reference?: string): ScoreInput => ({
  prompt: "q", messages: [{ role: "user", content: "q" }], response, ...(reference !== undefined ? { reference } : {})
})
const ctx = { pool: undefined as never, field: "scorers[0]" }
const common = { weight: 1, normalize: "raw" as const, match: "numeric" as const, tolerance: 1e-6, missing_reference: "fail" as const }

describe("final-answer extraction", () => {
  it("reads \\boxed{} with nested braces, the last one winning", () => {
    expect(lastBoxed("first \\boxed{1} then \\boxed{\\frac{1}{2}}")).toBe("\\frac{1}{2}")
    expect(extractAnswer("所以答案是 \\boxed{42}。")).toBe("42")
  })

  it("reads Chinese answer phrasings", () => {
    expect(extractAnswer("小明原来有3个，又买了2个，所以答案是5个苹果。")).toBe("5个苹果")
    expect(extractAnswer("计算过程略。\n答：五个")).toBe("五个")
    expect(extractAnswer("最终答案为：三十六元。")).toBe("三十六元")
    expect(extractAnswer("因此他现在有5个苹果")).toBe("5个苹果")
  })

  it("reads English phrasings, GSM8K markers and falls back to the last number", () => {
    expect(extractAnswer("3 + 2 = 5. The answer is 5.")).toBe("5")
    expect(extractAnswer("So the final answer is 3.5.")).toBe("3.5")
    expect(extractAnswer("Answer: 1,000 dollars")).toBe("1,000 dollars")
    expect(extractAnswer("He had 3, bought 2\n#### 5")).toBe("5")
    expect(extractAnswer("Tom has 3 apples and then 7")).toBe("7")
    expect(extractAnswer("no numbers at all")).toBeUndefined()
  })
})

describe("number parsing", () => {
  it("parses Chinese numerals", () => {
    expect(parseChineseNumber("三十六")).toBe(36)
    expect(parseChineseNumber("十五")).toBe(15)
    expect(parseChineseNumber("一千零五")).toBe(1005)
    expect(parseChineseNumber("两万三千")).toBe(23000)
    expect(parseChineseNumber("二〇二四")).toBe(2024)
    expect(parseChineseNumber("三点五")).toBe(3.5)
    expect(parseChineseNumber("负三")).toBe(-3)
    expect(parseChineseNumber("三分之一")).toBeCloseTo(1 / 3, 12)
    expect(parseChineseNumber("百分之五十")).toBe(0.5)
    expect(parseChineseNumber("苹果")).toBeUndefined()
  })

  it("parses Arabic, full-width, fractions, LaTeX and percentages", () => {
    expect(parseNumber("1,000.5 元")?.value).toBe(1000.5)
    expect(parseNumber("５个")?.value).toBe(5)
    expect(parseNumber("3/4")?.value).toBe(0.75)
    expect(parseNumber("\\frac{3}{4}")?.value).toBe(0.75)
    expect(parseNumber("$-2$")?.value).toBe(-2)
    expect(parseNumber("50%")).toEqual({ value: 0.5, percent: true })
    expect(parseNumber("五个苹果")?.value).toBe(5)
  })

  it("matches numerically or exactly", () => {
    expect(answersMatch("5个苹果", "5", "numeric", 1e-6)).toBe(true)
    expect(answersMatch("五个", "5", "numeric", 1e-6)).toBe(true)
    expect(answersMatch("0.5", "\\frac{1}{2}", "numeric", 1e-6)).toBe(true)
    expect(answersMatch("50%", "50", "numeric", 1e-6)).toBe(true)
    expect(answersMatch("6", "5", "numeric", 1e-6)).toBe(false)
    expect(answersMatch("Paris.", "paris", "exact", 0)).toBe(true)
    expect(answersMatch("北京。", "北京", "numeric", 1e-6)).toBe(true)
    expect(answersMatch("5.0", "5", "exact", 0)).toBe(false)
  })
})

describe("verifier scorer", () => {
  it("scores answer matches against the prompt's reference, Chinese and English", async () => {
    const scorer = verifierFamily.build({ name: "v", type: "verifier", check: "answer_match", ...common }, ctx)
    const out = await Effect.runPromise(scorer.score([
      sample("小明现在有五个苹果。", "5"),
      sample("The answer is 6.", "5"),
      sample("The answer is \\boxed{5}", "5"),
      sample("no reference here")
    ]))
    expect(out.values).toEqual([1, 0, 1, 0])
    expect(answerMatchScore(sample("x"), { ...common, missing_reference: "pass" })).toBe(1)
  })

  it("checks JSON-schema conformance and rejects a broken schema naming the field", async () => {
    const schema = { type: "object", required: ["name", "age"], properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } } }
    const scorer = verifierFamily.build({ name: "j", type: "verifier", check: "json_schema", schema, ...common }, ctx)
    const out = await Effect.runPromise(scorer.score([
      sample('{"name": "小明", "age": 8}'),
      sample('```json\n{"name": "Tom", "age": -1}\n```'),
      sample('{"name": "Tom"}'),
      sample("不是 JSON")
    ]))
    expect(out.values).toEqual([1, 0, 0, 0])
    expect(() => compileJsonSchema({ type: "nonsense" })).toThrow()
    const broken = verifierFamily.build({ name: "j", type: "verifier", check: "json_schema", schema: { type: "nonsense" }, ...common }, ctx)
    const failure = await Effect.runPromise(Effect.flip(broken.score([sample("{}")])))
    expect(failure.message).toContain("scorers[0].schema")
    expect(compileJsonSchema({ $schema: "http://json-schema.org/draft-07/schema#", type: "array", items: { type: "number" } }).validate([1, 2])).toBe(true)
  })
})

describe("the arithmetic chain check", () => {
  const verifier = verifierFamily.build({ name: "steps", type: "verifier", check: "arithmetic_chain", ...common }, ctx)
  const scored = (prompt: string, response: string, reference: string) =>
    Effect.runPromise(verifier.score([{ prompt, messages: [{ role: "user", content: prompt }], response, reference }])).then((c) => c.values[0])

  it("accepts only the prompt's own chain of right steps with the right answer, in Chinese and English", async () => {
    expect(await scored("What is 12 + 7 - 5?", "12 + 7 = 19, 19 - 5 = 14. The answer is 14.", "14")).toBe(1)
    expect(await scored("计算 12 + 7 - 5 等于多少？", "12 + 7 = 19，19 - 5 = 14。答案是 14。", "14")).toBe(1)
    expect(await scored("计算 3 - 9 + 1 等于多少？", "3 - 9 = -6，-6 + 1 = -5。答案是 -5。", "-5")).toBe(1)
  })

  it("refuses a right answer reached through wrong or missing steps", async () => {
    expect(await scored("What is 12 + 7 - 5?", "12 + 7 = 18, 18 - 5 = 14. The answer is 14.", "14")).toBe(0)
    expect(await scored("What is 12 + 7 - 5?", "The answer is 14.", "14")).toBe(0)
    expect(await scored("What is 12 + 7 - 5?", "12 + 7 = 19, 19 - 4 = 15, 15 - 1 = 14. The answer is 14.", "14")).toBe(0)
    expect(await scored("What is 12 + 7 - 5?", "12 + 7 = 19, 19 - 5 = 14. The answer is 15.", "14")).toBe(0)
    expect(await scored("Describe a quiet morning.", "1 + 1 = 2. The answer is 2.", "2")).toBe(0)
  })
})
