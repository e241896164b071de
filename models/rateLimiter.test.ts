import { describe, expect, it } from "vitest"
import { AdaptiveRateLimiter } from "./rateLimiter.js"

describe("the adaptive rate limiter", () => {
  it("lets a minute's requests through, then spaces them at the configured rate", () => {
    let now = 0
    const limiter = new AdaptiveRateLimiter({ requests_per_minute: 60 }, () => now)
    for (let i = 0; i < 60; i++) expect(limiter.tryTake(0)).toBe(0)
    expect(limiter.tryTake(0)).toBe(1000)
    now += 1000
    expect(limiter.tryTake(0)).toBe(0)
  })

  it("counts tokens per minute, never asking more than a minute holds", () => {
    let now = 0
    const limiter = new AdaptiveRateLimiter({ tokens_per_minute: 6000 }, () => now)
    expect(limiter.tryTake(5000)).toBe(0)
    expect(limiter.tryTake(2000)).toBe(10_000)
    now += 10_000
    expect(limiter.tryTake(2000)).toBe(0)
    expect(limiter.tryTake(1_000_000)).toBeGreaterThan(0)
  })

  it("halves its rate on a 429, down to a floor, and grows back after a run of successes", () => {
    let now = 0
    const limiter = new AdaptiveRateLimiter({ requests_per_minute: 120 }, () => now)
    limiter.throttled()
    expect(limiter.rateShare).toBe(0.5)
    for (let i = 0; i < 60; i++) expect(limiter.tryTake(0)).toBe(0)
    expect(limiter.tryTake(0)).toBe(1000)
    for (let i = 0; i < 10; i++) limiter.throttled()
    expect(limiter.rateShare).toBe(1 / 16)
    for (let i = 0; i < 20; i++) limiter.succeeded()
    expect(limiter.rateShare).toBeCloseTo(1.25 / 16, 9)
    for (let i = 0; i < 400; i++) limiter.succeeded()
    expect(limiter.rateShare).toBe(1)
  })
})
