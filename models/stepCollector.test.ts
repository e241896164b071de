import { describe, expect, it } from "vitest"
import { shouldCollect, StepCollector } from "./stepCollector.js"

const MiB = 2 ** 20

describe("collecting garbage after decode steps", () => {
  it("collects only after steps with a large cache that last at least 20 collections", () => {
    expect(shouldCollect(288 * MiB, 350, 10)).toBe(true)
    expect(shouldCollect(288 * MiB, 150, 10)).toBe(false)
    expect(shouldCollect(16 * MiB, 350, 10)).toBe(false)
    expect(shouldCollect(32 * MiB, 200, 10)).toBe(true)
  })

  it("frees a dropped cache right after a long step", () => {
    let cache: Float32Array | undefined = new Float32Array(16 * MiB).fill(1)
    const held = process.memoryUsage().arrayBuffers
    expect(cache[0]).toBe(1)
    cache = undefined
    new StepCollector().afterStep(64 * MiB, 1000)
    expect(held - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(60 * MiB)
    expect(cache).toBeUndefined()
  })
})
