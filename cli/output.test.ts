import { afterEach, describe, expect, it, vi } from "vitest"
import { displayWidth, ProgressBar } from "./output.js"

const progress = { campaignId: "c", dataset: "d", status: "running" as const, round: 2, rounds: 4, shardsDone: 1, shardsTotal: 2, prompts: 10, generated: 40, accepted: 9, versions: [] }

describe("terminal output", () => {
  afterEach(() => vi.restoreAllMocks())

  it("draws the progress bar in place on stderr, only when enabled", () => {
    const writes: string[] = []
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => { writes.push(String(chunk)); return true })
    new ProgressBar(false).update(progress)
    expect(writes).toEqual([])
    const bar = new ProgressBar(true)
    bar.update(progress)
    bar.update(progress)
    bar.done()
    expect(writes).toHaveLength(2)
    expect(writes[0]).toMatch(/^\r\x1b\[2K\[#{9}-{15}\] round 2\/4 shards 1\/2 generated 40 accepted 9$/)
    expect(writes[1]).toBe("\n")
  })

  it("measures CJK text as two columns per character", () => {
    expect(displayWidth("abc")).toBe(3)
    expect(displayWidth("中文数据")).toBe(8)
    expect(displayWidth("ＡＢ")).toBe(4)
  })
})
