import { describe, expect, it } from "vitest"
import { heldBack } from "./completionStream.js"

describe("heldBack", () => {
  it("holds back a tail that could begin a stop string, and everything from a stop string on", () => {
    expect(heldBack("hello wor", ["world!"])).toBe(3)
    expect(heldBack("hello", ["world"])).toBe(0)
    expect(heldBack("ab", ["abc", "b"])).toBe(2)
    expect(heldBack("x STOP y", ["STOP"])).toBe(6)
    expect(heldBack("今天天气很", ["很好", "。"])).toBe(1)
    expect(heldBack("anything", [])).toBe(0)
  })
})
