import { describe, expect, it } from "vitest"
import { EVOL_OPERATIONS, evolFailure, evolMessages, parseEvolved } from "./evolInstruct.js"

describe("Evol-Instruct requests", () => {
  it("builds one request per operation and language, holding the prompt", () => {
    for (const operation of EVOL_OPERATIONS) {
      for (const lang of ["zh", "en"] as const) {
        const [message] = evolMessages("  写一首关于秋天的诗。 ", operation, lang)
        expect(message!.role).toBe("user")
        expect(message!.content).toContain("\n写一首关于秋天的诗。\n")
      }
    }
  })

  it("names the method of each in-depth operation", () => {
    expect(evolMessages("Sort a list.", "add_constraints", "en")[0]!.content).toContain("Add one more constraint or requirement")
    expect(evolMessages("Sort a list.", "increase_reasoning", "en")[0]!.content).toContain("reasoning in several steps")
    expect(evolMessages("排序一个列表。", "concretize", "zh")[0]!.content).toContain("改写方法：把其中笼统的概念换成更具体的概念。")
    expect(evolMessages("排序一个列表。", "deepen", "zh")[0]!.content).toMatch(/改写后的指令：$/u)
  })

  it("asks in breadth for a new prompt of the same domain", () => {
    expect(evolMessages("Sort a list.", "breadth", "en")[0]!.content).toMatch(/same domain[\s\S]*New prompt:$/u)
    expect(evolMessages("排序一个列表。", "breadth", "zh")[0]!.content).toMatch(/同一领域[\s\S]*新指令：$/u)
  })
})

describe("parseEvolved", () => {
  it("strips labels, preambles and wrapping marks", () => {
    expect(parseEvolved("Rewritten prompt: Sort a list of 10 integers without using built-ins.")).toBe("Sort a list of 10 integers without using built-ins.")
    expect(parseEvolved("#Rewritten Prompt#:\nSort a list in O(n log n).")).toBe("Sort a list in O(n log n).")
    expect(parseEvolved("Sure, here is the rewritten prompt:\n\"Sort a list, stably.\"")).toBe("Sort a list, stably.")
    expect(parseEvolved("改写后的指令：写一首关于秋天的七言绝句，要求押平声韵。")).toBe("写一首关于秋天的七言绝句，要求押平声韵。")
    expect(parseEvolved("好的，以下是改写结果：\n**新指令：** “以冬至为题写一首五言绝句。”")).toBe("以冬至为题写一首五言绝句。")
    expect(parseEvolved("  写一首诗，描写江南的春雨。  ")).toBe("写一首诗，描写江南的春雨。")
    expect(parseEvolved("")).toBe("")
  })
})

describe("evolFailure", () => {
  const original = "写一首关于秋天的诗。"

  it("accepts a real evolution", () => {
    expect(evolFailure(original, "以“秋雨”为意象写一首七言律诗，并在颔联中使用对仗。")).toBeUndefined()
    expect(evolFailure("Sort a list.", "Sort a list of dates given as strings in three different formats.")).toBeUndefined()
  })

  it("rejects unchanged prompts and prompts that contain the original verbatim", () => {
    expect(evolFailure(original, "写一首关于秋天的诗")).toBe("unchanged")
    expect(evolFailure(original, "写一首关于秋天的诗。要求押韵。")).toBe("contains_original")
    expect(evolFailure("Write a poem.", "WRITE A POEM!")).toBe("unchanged")
  })

  it("rejects refusals in both languages", () => {
    expect(evolFailure(original, "抱歉，我无法改写这条指令。")).toBe("refusal")
    expect(evolFailure(original, "作为一个AI语言模型，我不能这样做。")).toBe("refusal")
    expect(evolFailure("Sort a list.", "I'm sorry, but I cannot rewrite this prompt.")).toBe("refusal")
    expect(evolFailure("Sort a list.", "Write an apology letter that says sorry to a neighbour for the noise.")).toBeUndefined()
    expect(evolFailure(original, "作为一名人工智能研究员，请解释注意力机制。")).toBeUndefined()
  })

  it("rejects prompts that copy the template's words", () => {
    expect(evolFailure(original, "根据原指令，写一首关于冬天的七言绝句。")).toBe("template_words")
    expect(evolFailure("Sort a list.", "The rewritten prompt asks you to sort dates by year.")).toBe("template_words")
    expect(evolFailure("Sort a list.", "#Rewritten Prompt# Sort dates by year and month.")).toBe("template_words")
  })

  it("rejects empty and too short prompts", () => {
    expect(evolFailure(original, "")).toBe("empty")
    expect(evolFailure(original, "写诗")).toBe("too_short")
  })
})
