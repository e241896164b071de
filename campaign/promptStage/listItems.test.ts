import { describe, expect, it } from "vitest"
import { parseListItems, stripListMarker, unwrap } from "./listItems.js"

describe("list markers", () => {
  it("strips the numbering and bullets models write in English and Chinese", () => {
    for (const line of ["1. 写一首诗", "1、写一首诗", "（1）写一首诗", "(1) 写一首诗", "1）写一首诗", "一、写一首诗", "- 写一首诗", "* 写一首诗", "• 写一首诗", "指令1：写一首诗", "**1.** 写一首诗", "12. 写一首诗"]) {
      expect(stripListMarker(line)).toBe("写一首诗")
    }
    expect(stripListMarker("Task 3: Write a haiku")).toBe("Write a haiku")
  })

  it("leaves numbers that are not markers", () => {
    expect(stripListMarker("1.5 million people live here")).toBeUndefined()
    expect(stripListMarker("10:30 is when the train leaves")).toBeUndefined()
    expect(stripListMarker("-3 is negative")).toBeUndefined()
    expect(stripListMarker("一个人的旅行")).toBeUndefined()
  })

  it("unwraps quotes and bold around the whole item only", () => {
    expect(unwrap("“写一首关于秋天的诗。”")).toBe("写一首关于秋天的诗。")
    expect(unwrap('**"Write a poem."**')).toBe("Write a poem.")
    expect(unwrap("「解释“熵”的含义」")).toBe("解释“熵”的含义")
    expect(unwrap('"A" and "B"')).toBe('"A" and "B"')
  })
})

describe("parseListItems", () => {
  it("reads a numbered list, dropping the preamble and closing remark", () => {
    const response = "Here are three new tasks:\n\n1. Write a haiku about rain.\n2) Explain recursion to a child.\n3. Plan a three-day trip to Kyoto.\n\nI hope these help!"
    expect(parseListItems(response)).toEqual(["Write a haiku about rain.", "Explain recursion to a child.", "Plan a three-day trip to Kyoto."])
  })

  it("keeps Chinese punctuation and joins continuation lines", () => {
    const response = "以下是新的指令：\n1、请用“比喻”的手法，描写一场夏天的雷阵雨。\n（2）把下面这句话翻译成英文：\n“学而不思则罔。”\n3. 解释一下：为什么天空是蓝色的？"
    expect(parseListItems(response)).toEqual([
      "请用“比喻”的手法，描写一场夏天的雷阵雨。",
      "把下面这句话翻译成英文：\n“学而不思则罔。”",
      "解释一下：为什么天空是蓝色的？"
    ])
  })

  it("takes one item per line when nothing is numbered, skipping lead-in lines", () => {
    expect(parseListItems("新任务如下：\n写一首七言绝句\n\n比较猫和狗作为宠物的优缺点\r\n")).toEqual(["写一首七言绝句", "比较猫和狗作为宠物的优缺点"])
  })

  it("returns nothing for an empty response", () => {
    expect(parseListItems("")).toEqual([])
    expect(parseListItems("1. \n2. ")).toEqual([])
  })
})
