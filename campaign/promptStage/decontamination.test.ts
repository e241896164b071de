import { describe, expect, it } from "vitest"
import { buildEvalIndex, evalOverlap, isContaminated } from "./decontamination.js"

describe("decontamination by n-gram overlap", () => {
  const index = buildEvalIndex([
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。请解释这首诗的意境。",
    "Explain why the sky appears blue during the day but red at sunset, in simple terms."
  ])

  it("uses character n-grams for Chinese, whatever the punctuation", () => {
    expect(isContaminated("床前明月光 疑是地上霜 举头望明月 低头思故乡 请解释这首诗的意境", index)).toBe(true)
    expect(isContaminated("请赏析《静夜思》：床前明月光，疑是地上霜。举头望明月，低头思故乡。", index)).toBe(true)
    expect(isContaminated("请解释杜甫《春望》这首诗的意境和写作背景。", index)).toBe(false)
  })

  it("uses word n-grams for English, case-insensitive", () => {
    expect(isContaminated("EXPLAIN why the sky appears blue during the day but red at sunset.", index)).toBe(true)
    expect(isContaminated("Explain why the ocean looks blue and why it is salty.", index)).toBe(false)
    expect(evalOverlap("Explain why the ocean looks blue and why it is salty.", index)).toBe(0)
  })

  it("matches texts shorter than n only when equal to an eval text", () => {
    const short = buildEvalIndex(["写一首诗", "Name a color."])
    expect(isContaminated("写一首诗！", short)).toBe(true)
    expect(isContaminated("name a COLOR", short)).toBe(true)
    expect(isContaminated("写一首词", short)).toBe(false)
  })

  it("takes a threshold, 0 meaning any shared n-gram", () => {
    const text = "举头望明月，低头思故乡。这两句写出了什么样的感情？请结合诗人的经历具体分析。"
    expect(evalOverlap(text, index)).toBeGreaterThan(0)
    expect(evalOverlap(text, index)).toBeLessThan(0.5)
    expect(isContaminated(text, index)).toBe(false)
    const strict = buildEvalIndex(["床前明月光，疑是地上霜。举头望明月，低头思故乡。请解释这首诗的意境。"], { threshold: 0 })
    expect(isContaminated(text, strict)).toBe(true)
  })

  it("rejects bad options", () => {
    expect(() => buildEvalIndex([], { threshold: 2 })).toThrow(/threshold/)
    expect(() => buildEvalIndex([], { cjkN: 0 })).toThrow(/cjkN/)
  })
})
