import { describe, expect, it } from "vitest"
import { hintedPrompt, hintedPromptId, hintText, leaksHint, splitHintedId } from "./hint.js"

describe("hinted prompts (STaR rationalization)", () => {
  it("writes the hint in Chinese or English", () => {
    expect(hintText("14", "zh")).toBe("（提示：答案是 14。请给出完整的推理过程。）")
    expect(hintText("14", "en")).toBe("(Hint: the answer is 14. Show the full reasoning.)")
    expect(hintText(" 北京。", "zh")).toBe("（提示：答案是 北京。请给出完整的推理过程。）")
  })

  it("appends the hint to the last user message in the prompt's language, marked for provenance", () => {
    const prompt = { id: "arith-1", messages: [{ role: "system" as const, content: "你是数学老师。" }, { role: "user" as const, content: "计算 12 + 7 - 5 等于多少？" }], reference: "14" }
    const hinted = hintedPrompt(prompt)
    expect(hinted).toEqual({
      id: "arith-1#hint",
      messages: [{ role: "system", content: "你是数学老师。" }, { role: "user", content: "计算 12 + 7 - 5 等于多少？\n（提示：答案是 14。请给出完整的推理过程。）" }],
      reference: "14",
      lang: "zh",
      rationalized: true,
      hintOf: "arith-1"
    })
    expect(prompt.messages[1]!.content).toBe("计算 12 + 7 - 5 等于多少？")
    expect(hintedPrompt({ id: "e", messages: [{ role: "user", content: "What is 12 + 7 - 5?" }], reference: "14" }).messages[0]!.content).toBe(
      "What is 12 + 7 - 5?\n(Hint: the answer is 14. Show the full reasoning.)"
    )
    expect(hintedPrompt({ id: "e", messages: [{ role: "user", content: "12 + 7 - 5 = ?" }], reference: "14", lang: "zh" }).lang).toBe("zh")
  })

  it("refuses a prompt without a user message", () => {
    expect(() => hintedPrompt({ id: "x", messages: [{ role: "system", content: "hi" }], reference: "1" })).toThrow(/no user message/)
  })

  it("maps hinted ids back to their prompt", () => {
    expect(splitHintedId(hintedPromptId("p-1"))).toEqual({ id: "p-1", hinted: true })
    expect(splitHintedId("p-1")).toEqual({ id: "p-1", hinted: false })
  })

  it("spots responses that lean on the hint", () => {
    expect(leaksHint("根据提示，答案是 14。")).toBe(true)
    expect(leaksHint("As the hint says, the answer is 14.")).toBe(true)
    expect(leaksHint("12 + 7 = 19，19 - 5 = 14。答案是 14。")).toBe(false)
    expect(leaksHint("12 + 7 = 19, 19 - 5 = 14. The answer is 14.")).toBe(false)
  })
})
