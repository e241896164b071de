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

  it("frees a dropped cache right after a long step", async () => {
    const cache = await Promise.resolve(new WeakRef(new Float32Array(16 * MiB)))
    await new Promise((resolve) => setImmediate(resolve))
    new StepCollector().afterStep(64 * MiB, 1000)
    expect(cache.deref()).toBeUndefined()
  })
})
