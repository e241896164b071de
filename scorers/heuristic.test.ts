import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { heuristicScorer, languageMatch, quality } from "./heuristic.js"
import { charLength, cjkRatio, distinctN, dominantScript, normalizeWidth, textUnits } from "./text.js"

const input = (prompt: string, response: string) => ({ prompt, messages: [{ role: "user", content: prompt }], response })

describe("text statistics, Chinese and English alike", () => {
  it("counts characters by code point", () => {
    expect(charLength("你好，世界")).toBe(5)
    expect(charLength("hello")).toBe(5)
    expect(charLength("𠀀a")).toBe(2)
  })

  it("measures the CJK share of letters", () => {
    expect(cjkRatio("今天天气很好")).toBe(1)
    expect(cjkRatio("hello world")).toBe(0)
    expect(cjkRatio("我爱 NLP")).toBeCloseTo(2 / 5, 6)
    expect(cjkRatio("？！…")).toBe(0)
  })

  it("splits CJK text into characters and other text into words, folding full-width forms", () => {
    expect(textUnits("我爱NLP，和 AI!")).toEqual(["我", "爱", "nlp", "和", "ai"])
    expect(normalizeWidth("ＡＢＣ１２３")).toBe("ABC123")
    expect(textUnits("ＡＢＣ abc")).toEqual(["abc", "abc"])
  })

  it("distinct-2 catches repetition in both scripts", () => {
    expect(distinctN("我们我们我们我们", 2)).toBeCloseTo(2 / 7, 6)
    expect(distinctN("the cat the cat the cat", 2)).toBeCloseTo(2 / 5, 6)
    expect(distinctN("今天天气很好", 2)).toBe(1)
    expect(distinctN("", 2)).toBe(0)
  })

  it("knows the dominant script", () => {
    expect(dominantScript("请回答这个问题 please")).toBe("cjk")
    expect(dominantScript("Answer this 问题 please now")).toBe("latin")
    expect(dominantScript("...")).toBe("none")
  })
})

describe("heuristic scorer", () => {
  it("scores language match between prompt and response", () => {
    expect(languageMatch(input("你好吗？", "我很好，谢谢。"))).toBe(1)
    expect(languageMatch(input("你好吗？", "I am fine."))).toBe(0)
    expect(languageMatch(input("How are you?", "I am fine."))).toBe(1)
  })

  it("quality rewards on-language, varied, long-enough answers and zeroes empty ones", () => {
    expect(quality(input("你好吗？", ""), 10)).toBe(0)
    expect(quality(input("你好吗？", "我很好，谢谢你的关心。"), 10)).toBe(1)
    expect(quality(input("你好吗？", "好好好好好好好好好好"), 10)).toBeLessThan(0.2)
    expect(quality(input("How are you?", "Fine."), 10)).toBeCloseTo(0.5, 6)
  })

  it("runs as a batched scorer with its config in lineage", async () => {
    const scorer = heuristicScorer({ name: "len", type: "heuristic", metric: "length_chars", weight: 1 })
    expect(await Effect.runPromise(scorer.score([input("a", "你好"), input("a", "hello")]))).toEqual([2, 5])
    expect(scorer.config).toEqual({ metric: "length_chars", target_chars: 64 })
  })
})
