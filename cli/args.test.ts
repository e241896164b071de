import { describe, expect, it } from "vitest"
import { firstSentence, twoColumns } from "./args.js"

describe("help layout", () => {
  it("pads short left texts and moves long ones onto their own line, the description indented below", () => {
    expect(twoColumns([["run <spec>", "Run it."], ["a-very-long-usage [--with] [--many] [--options]", "Describe it."]], 20)).toEqual([
      "  run <spec>        Run it.",
      "  a-very-long-usage [--with] [--many] [--options]",
      "                    Describe it."
    ])
  })

  it("keeps a summary's first sentence without its full stop, also when it is the only one", () => {
    expect(firstSentence("Show a manifest: counts, lineage. Without --json, a record too.")).toBe("Show a manifest: counts, lineage")
    expect(firstSentence("List datasets with their head version.")).toBe("List datasets with their head version")
    expect(firstSentence("Point at 127.0.0.1 until interrupted.")).toBe("Point at 127.0.0.1 until interrupted")
  })
})
