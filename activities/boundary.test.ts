import { ApplicationFailure, CancelledFailure } from "@temporalio/common"
import { MockActivityEnvironment } from "@temporalio/testing"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { InferenceFailed, inputInvalid } from "../core/errors.js"
import { runActivity } from "./boundary.js"

describe("the activity boundary", () => {
  it("maps winnow errors to ApplicationFailures typed by code, retryable or not by isRetryable", async () => {
    const env = new MockActivityEnvironment()
    const bad = await env.run(() => runActivity(Effect.fail(inputInvalid("spec", "generator.n", 0, "a positive integer")))).catch((e) => e)
    expect(bad).toBeInstanceOf(ApplicationFailure)
    expect(bad).toMatchObject({ type: "WINNOW_INPUT_INVALID", nonRetryable: true })
    const flaky = await env.run(() => runActivity(Effect.fail(new InferenceFailed({ model: "m", reason: "thread died" })))).catch((e) => e)
    expect(flaky).toMatchObject({ type: "WINNOW_INFERENCE_FAILED", nonRetryable: false })
    expect(await env.run(() => runActivity(Effect.succeed(42)))).toBe(42)
  })

  it("interrupts the running effect when Temporal cancels the activity", async () => {
    const env = new MockActivityEnvironment()
    let interrupted = false
    const forever = Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => { interrupted = true })))
    const running = env.run(() => runActivity(forever)).catch((e) => e)
    await new Promise((r) => setTimeout(r, 50))
    env.cancel()
    expect(await running).toBeInstanceOf(CancelledFailure)
    expect(interrupted).toBe(true)
  })
})
