import { Effect, Result } from "effect"
import { decodeSpec, type HeuristicScorerSpec } from "../campaign/spec.js"
import type { ScoreInput } from "./contract.js"
import { describe, expect, it } from "vitest"
import { heuristicFamily, jsonValid, languageMatch, quality } from "./heuristic.js"
import { charLength, cjkRatio, detectLanguage, distinctN, dominantScript, normalizeWidth, punctuationWidthConsistency, repetitionRatio, textUnits } from "../core/text.js"

const input = (prompt: string, response: string): ScoreInput => ({ prompt, messages: [{ role: "user", content: prompt }], response })
const ctx = { pool: undefined as never, field: "scorers[0]" }
const spec = (fields: Record<string, unknown>) =>
  Result.getOrThrow(decodeSpec({ name: "t", prompts: "p", generator: { model: "m" }, scorers: [{ name: "h", type: "heuristic", ...fields }], output: { dataset: "d" } }, "t")).scorers[0] as HeuristicScorerSpec

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
    const scorer = heuristicFamily.build(spec({ metric: "length_chars" }), ctx)
    expect((await Effect.runPromise(scorer.score([input("a", "你好"), input("a", "hello")]))).values).toEqual([2, 5])
    expect(scorer.config).toEqual({ metric: "length_chars", weight: 1, normalize: "raw", filter: null })
    expect(heuristicFamily.build(spec({ metric: "quality" }), ctx).config).toMatchObject({ target_chars: 64 })
  })

  it("computes every metric on Chinese and English text", async () => {
    const run = async (metric: Record<string, unknown>, rows: Array<[string, string]>, extra: Partial<ScoreInput> = {}) =>
      (await Effect.runPromise(heuristicFamily.build(spec(metric), ctx).score(rows.map(([p, r]) => ({ ...input(p, r), ...extra }))))).values
    expect(await run({ metric: "length_tokens" }, [["q", "anything"]], { tokenCount: 7 })).toEqual([7])
    expect(await run({ metric: "length_tokens" }, [["q", "anything"]])).toEqual([Number.NaN])
    expect(await run({ metric: "distinct_n", n: 1 }, [["q", "好好好好"], ["q", "a a b b"]])).toEqual([0.25, 0.5])
    expect(await run({ metric: "repetition", n: 2 }, [["q", "我爱你我爱你"], ["q", "I love you I love you"], ["q", "今天天气很好"]])).toEqual([1, 1, 0])
    expect(await run({ metric: "regex", pattern: "^\\d+$" }, [["q", "42"], ["q", "四十二"]])).toEqual([1, 0])
    expect(await run({ metric: "regex", pattern: "答案", flags: "" }, [["q", "答案是五"], ["q", "The answer"]])).toEqual([1, 0])
    expect(await run({ metric: "json_valid" }, [["q", '{"a": 1}'], ["q", "好的：```json\n{\"名字\": \"小明\"}\n```"], ["q", "{not json"]])).toEqual([1, 1, 0])
    expect(await run({ metric: "punctuation_width" }, [["q", "你好，世界。"], ["q", "你好,世界."], ["q", "Hello, world."], ["q", "Hello，world。"]])).toEqual([1, 0, 1, 0])
    expect(await run({ metric: "cjk_ratio" }, [["q", "ＡＢＣ你好"]])).toEqual([0.4])
  })
})

describe("more text statistics", () => {
  it("tells Chinese, Japanese, Korean and Latin-script text apart", () => {
    expect(detectLanguage("今天天气很好")).toBe("zh")
    expect(detectLanguage("今日はいい天気ですね")).toBe("ja")
    expect(detectLanguage("오늘 날씨가 좋네요")).toBe("ko")
    expect(detectLanguage("The weather is nice")).toBe("latin")
    expect(detectLanguage("！？")).toBe("none")
    expect(languageMatch(input("今天天气怎么样？", "今日はいい天気です"))).toBe(0)
  })

  it("measures repetition over characters for CJK and words elsewhere", () => {
    expect(repetitionRatio("我们我们我们", 2)).toBe(1)
    expect(repetitionRatio("我们去公园散步", 2)).toBe(0)
    expect(repetitionRatio("go to the park and go to the zoo", 3)).toBeCloseTo(6 / 9, 6)
    expect(repetitionRatio("短", 4)).toBe(0)
  })

  it("checks punctuation width against its context, skipping decimals and times", () => {
    expect(punctuationWidthConsistency("圆周率约为3.14，时间是10:30。")).toBe(1)
    expect(punctuationWidthConsistency("我喜欢 tea, 和咖啡。")).toBe(1)
    expect(punctuationWidthConsistency("没有标点")).toBe(1)
    expect(punctuationWidthConsistency("你好!I am fine.")).toBeCloseTo(0.5, 6)
  })

  it("finds JSON in fenced or surrounded text", () => {
    expect(jsonValid("[1, 2, 3]")).toBe(1)
    expect(jsonValid("结果如下 {\"a\": [1, 2]} 完毕")).toBe(1)
    expect(jsonValid("no json here")).toBe(0)
  })
})
