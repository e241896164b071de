import { describe, expect, it } from "vitest"
import { seededUniform, sampleWithoutReplacement } from "./random.js"
import { parseSelfInstruct, selfInstructMessages } from "./selfInstruct.js"

describe("Self-Instruct requests", () => {
  it("lists the examples and asks for new, different tasks in English", () => {
    const [message] = selfInstructMessages({ examples: ["Write a haiku about rain.", "Sort these numbers:\n3, 1, 2"], lang: "en", count: 5 })
    expect(message!.role).toBe("user")
    expect(message!.content).toContain("1. Write a haiku about rain.\n2. Sort these numbers: 3, 1, 2")
    expect(message!.content).toContain("Come up with 5 new tasks that are clearly different")
    expect(message!.content).toMatch(/numbered list, one task per line/)
  })

  it("writes the Chinese request natively, with full-width punctuation", () => {
    const [message] = selfInstructMessages({ examples: ["写一首关于秋天的七言绝句。"], lang: "zh", count: 3 })
    expect(message!.content).toContain("1. 写一首关于秋天的七言绝句。")
    expect(message!.content).toContain("请另外写出 3 条新指令，和上面这些明显不同")
    expect(message!.content).toContain("请用编号列表回答，每行一条")
    expect(message!.content).not.toMatch(/[\u4e00-\u9fff][,.?!:;]/u)
  })

  it("rejects a request without examples or with no tasks asked for", () => {
    expect(() => selfInstructMessages({ examples: [], lang: "en", count: 3 })).toThrow(/example/)
    expect(() => selfInstructMessages({ examples: ["a b c"], lang: "en", count: 0 })).toThrow(/count/)
  })

  it("picks examples from a pool reproducibly", () => {
    const pool = ["a", "b", "c", "d", "e", "f"]
    const first = sampleWithoutReplacement(pool, 4, seededUniform(1, 2, "self_instruct"))
    expect(sampleWithoutReplacement(pool, 4, seededUniform(1, 2, "self_instruct"))).toEqual(first)
    expect(new Set(first).size).toBe(4)
    expect(sampleWithoutReplacement(pool, 10, seededUniform(1))).toHaveLength(6)
  })
})

describe("parseSelfInstruct", () => {
  it("keeps new prompts and drops repeats of the examples, duplicates and fragments", () => {
    const response = [
      "好的，以下是 5 条新指令：",
      "1、用三句话介绍一下量子纠缠。",
      "2、写一首关于秋天的七言绝句。",
      "3、用三句话介绍一下量子纠缠",
      "4、好",
      "5、为一家咖啡店设计一句广告语，要求不超过十个字。"
    ].join("\n")
    const out = parseSelfInstruct(response, { earlier: ["写一首关于秋天的七言绝句。"] })
    expect(out.prompts).toEqual(["用三句话介绍一下量子纠缠。", "为一家咖啡店设计一句广告语，要求不超过十个字。"])
    expect(out.dropped).toMatchObject({ duplicate_exact: 1, duplicate_normalized: 1, too_short: 1 })
  })

  it("reads English bullet lists", () => {
    expect(parseSelfInstruct("- Summarise the plot of Hamlet in two sentences.\n- Convert 5 miles to kilometres.\n").prompts).toEqual([
      "Summarise the plot of Hamlet in two sentences.",
      "Convert 5 miles to kilometres."
    ])
  })
})
