import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { OpenAIBackendSpec } from "../campaign/spec.js"
import type { ApplicationFailure } from "@temporalio/common"
import { toFailure } from "../activities/boundary.js"
import { isRetryable, retryDelayOf, type WinnowError } from "../core/errors.js"
import type { GenerationParams } from "../models/localGenerator.js"
import { OpenAIGenerator } from "../models/openaiGenerator.js"
import { MAX_RETRY_AFTER_MS, retryAfterMs } from "../models/openaiHttp.js"
import type { RunningServe } from "../serve/server.js"
import { startTinyChatServe } from "./support/harness.js"

const params: GenerationParams = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 12 }

const backend = (base_url: string, extra: Partial<OpenAIBackendSpec> = {}): OpenAIBackendSpec => ({
  type: "openai",
  base_url,
  model: "peer-model",
  concurrency: 4,
  timeout_ms: 10_000,
  max_retries: 3,
  logprobs: true,
  extended_sampling: true,
  ...extra
})

interface Seen {
  readonly at: number
  readonly body: { n?: number; seed?: number; logprobs?: boolean; [key: string]: unknown }
  readonly headers: IncomingHttpHeaders
}

type Answer = { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number } | "hang" | "drop"

/**
 * A small real HTTP server that speaks the chat-completions format and misbehaves on purpose
 * (rate limits, 5xx, dropped sockets, refusing n > 1) the way real servers do.
 */
const startPeer = async (answer: (seen: Seen, index: number) => Answer) => {
  const seen: Seen[] = []
  let inFlight = 0
  let maxInFlight = 0
  const server = createServer((req, res) => {
    let text = ""
    req.on("data", (d) => (text += d))
    req.on("end", () => {
      const entry: Seen = { at: Date.now(), body: JSON.parse(text || "{}"), headers: req.headers }
      seen.push(entry)
      const reply = answer(entry, seen.length - 1)
      if (reply === "hang") return
      if (reply === "drop") return void req.socket.destroy()
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      setTimeout(() => {
        inFlight--
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
        res.end(JSON.stringify(reply.body ?? {}))
      }, reply.delayMs ?? 0)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/** A well-formed completion whose choice texts name the request seed and the choice index. */
const completion = (body: Seen["body"], choices = body.n ?? 1): Answer => ({
  status: 200,
  body: {
    id: "chatcmpl-peer",
    object: "chat.completion",
    choices: Array.from({ length: choices }, (_, index) => ({
      index,
      message: { role: "assistant", content: `seed ${body.seed} choice ${index}` },
      finish_reason: "stop",
      logprobs: body.logprobs ? { content: [{ token: "seed", logprob: -0.25 }, { token: " x", logprob: -1.5 }] } : null
    })),
    usage: { prompt_tokens: 9, completion_tokens: 2 * choices, total_tokens: 9 + 2 * choices }
  }
})

const prompts = [
  { messages: [{ role: "user" as const, content: "你好" }], seeds: [101, 102, 103] },
  { messages: [{ role: "user" as const, content: "hello" }], seeds: [201, 202, 203] }
]

const failureOf = async (effect: Effect.Effect<unknown, WinnowError>): Promise<WinnowError> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Cause.squash(exit.cause) as WinnowError
}

describe("Retry-After", () => {
  it("reads delay-seconds and HTTP dates, caps long waits, ignores garbage", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(retryAfterMs("3", now)).toBe(3000)
    expect(retryAfterMs("0.5", now)).toBe(500)
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7000)
    expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0)
    expect(retryAfterMs("86400", now)).toBe(MAX_RETRY_AFTER_MS)
    expect(retryAfterMs("soon", now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
})

describe("the OpenAI-compatible backend against misbehaving servers", () => {
  it("fails a 429 with a retryable InferenceFailed carrying Retry-After, in seconds or as an HTTP date, for the activity's retry to wait", async () => {
    const peer = await startPeer((_seen, i) =>
      i === 0
        ? { status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down" } } }
        : { status: 429, headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() }, body: { error: { message: "slow down" } } })
    const generator = new OpenAIGenerator(backend(peer.url))
    const seconds = await failureOf(generator.generate([prompts[0]!], params))
    const date = await failureOf(generator.generate([prompts[0]!], params))
    generator.close()
    await peer.close()
    expect(peer.seen).toHaveLength(2)
    for (const error of [seconds, date]) {
      expect(error._tag).toBe("InferenceFailed")
      expect(isRetryable(error)).toBe(true)
      expect(error.message).toContain("HTTP 429: slow down")
    }
    expect(retryDelayOf(seconds)).toBe(1000)
    expect(retryDelayOf(date)).toBeGreaterThan(900)
    expect(retryDelayOf(date)).toBeLessThanOrEqual(2000)
    const failure = toFailure(seconds) as ApplicationFailure
    expect(failure).toMatchObject({ type: "WINNOW_INFERENCE_FAILED", nonRetryable: false })
    expect(failure.nextRetryDelay).toBe(1000)
  })

  it("slows its rate_limit down after a 429 and keeps what it learnt for the next attempt", async () => {
    const peer = await startPeer((seen, i) => (i === 0 ? { status: 429, headers: { "retry-after": "0" }, body: { error: { message: "slow down" } } } : completion(seen.body)))
    const generator = new OpenAIGenerator({ ...backend(peer.url), rate_limit: { requests_per_minute: 600, tokens_per_minute: 1_000_000 } })
    expect(generator.rateShare).toBe(1)
    expect((await failureOf(generator.generate([prompts[0]!], params)))._tag).toBe("InferenceFailed")
    expect(generator.rateShare).toBe(0.5)
    expect(await Effect.runPromise(generator.generate([prompts[0]!], params))).toHaveLength(3)
    expect(generator.rateShare).toBe(0.5)
    generator.close()
    await peer.close()
  })

  it("fails 5xx answers, dropped connections and garbled bodies with a retryable InferenceFailed after one request each (no retry loop of its own)", async () => {
    const flaky = await startPeer((seen, i) =>
      i === 0 ? { status: 503, body: { error: { message: "overloaded" } } } : i === 1 ? "drop" : i === 2 ? { status: 200, body: "<html>proxy</html>" } : completion(seen.body))
    const generator = new OpenAIGenerator(backend(flaky.url))
    const failures = [
      await failureOf(generator.generate([prompts[1]!], params)),
      await failureOf(generator.generate([prompts[1]!], params)),
      await failureOf(generator.generate([prompts[1]!], params))
    ]
    const samples = await Effect.runPromise(generator.generate([prompts[1]!], params))
    generator.close()
    await flaky.close()
    expect(flaky.seen).toHaveLength(4)
    expect(failures.map((f) => [f._tag, isRetryable(f), retryDelayOf(f)])).toEqual(Array(3).fill(["InferenceFailed", true, undefined]))
    expect(failures[0]!.message).toContain("HTTP 503: overloaded")
    expect(failures[2]!.message).toContain("not a chat completion")
    expect(samples).toHaveLength(3)
  })

  it("falls back to one request per sample when a server rejects n > 1, and remembers it", async () => {
    const refusals = [
      { error: { message: "n must be 1", type: "invalid_request_error", param: "n" } },
      { error: { code: 400, message: "Only one completion choice is allowed", type: "invalid_request_error" } }
    ]
    for (const refusal of refusals) {
      const peer = await startPeer((seen) => ((seen.body.n ?? 1) > 1 ? { status: 400, body: refusal } : completion(seen.body)))
      const fallbacks: string[] = []
      const generator = new OpenAIGenerator(backend(peer.url), undefined, { onFallback: (r) => fallbacks.push(r) })
      const first = await Effect.runPromise(generator.generate(prompts, params))
      const refused = peer.seen.filter((s) => (s.body.n ?? 1) > 1).length
      const second = await Effect.runPromise(generator.generate(prompts, params))
      generator.close()
      await peer.close()
      const expected = prompts.flatMap((p) => p.seeds.map((seed) => `seed ${seed} choice 0`))
      expect(first.map((s) => s.text)).toEqual(expected)
      expect(second.map((s) => s.text)).toEqual(expected)
      expect(first.map((s) => [s.prompt, s.sample])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
      expect(refused).toBeGreaterThanOrEqual(1)
      expect(refused).toBeLessThanOrEqual(prompts.length)
      expect(peer.seen.filter((s) => (s.body.n ?? 1) > 1)).toHaveLength(refused)
      expect(peer.seen).toHaveLength(refused + 12)
      expect(generator.splitsRequests).toBe(true)
      expect(fallbacks).toHaveLength(1)
    }
  })

  it("asks for log-probabilities with top_logprobs, which llama.cpp's server needs before it returns any", async () => {
    const peer = await startPeer((seen) => {
      const answer = completion(seen.body) as { status: number; body: { choices: Array<{ logprobs: unknown }> } }
      if (!(typeof seen.body.top_logprobs === "number" && seen.body.top_logprobs > 0)) answer.body.choices.forEach((c) => (c.logprobs = null))
      return answer
    })
    const generator = new OpenAIGenerator(backend(peer.url))
    const samples = await Effect.runPromise(generator.generate([prompts[0]!], params))
    generator.close()
    await peer.close()
    expect(peer.seen[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 1 })
    expect(samples.map((s) => s.logprobs)).toEqual(Array(3).fill([-0.25, -1.5]))
  })

  it("drops the extended sampling fields once for a server that refuses them (400 or 422 naming one), remembers it and says so", async () => {
    const extended = ["top_k", "min_p", "repetition_penalty"]
    const refusals: Array<(sent: string[]) => Answer> = [
      (sent) => ({ status: 400, body: { error: { message: `Unrecognized request argument supplied: ${sent[0]}`, type: "invalid_request_error", param: null, code: null } } }),
      (sent) => ({ status: 400, body: { error: { message: "extra fields not permitted", type: "BadRequestError", param: sent.at(-1), code: 400 } } }),
      (sent) => ({ status: 422, body: { detail: `Unexpected keys in the request: {${sent.map((k) => `'${k}'`).join(", ")}}` } })
    ]
    const sampling = { ...params, top_k: 40, min_p: 0.05, repetition_penalty: 1.1 }
    for (const refusal of refusals) {
      const peer = await startPeer((seen) => {
        const sent = extended.filter((k) => k in seen.body)
        return sent.length > 0 ? refusal(sent) : completion(seen.body)
      })
      const fallbacks: string[] = []
      const generator = new OpenAIGenerator(backend(peer.url), undefined, { onFallback: (r) => fallbacks.push(r) })
      const first = await Effect.runPromise(generator.generate(prompts, sampling))
      const refused = peer.seen.filter((s) => extended.some((k) => k in s.body)).length
      const second = await Effect.runPromise(generator.generate(prompts, sampling))
      generator.close()
      await peer.close()
      const expected = prompts.flatMap((p) => p.seeds.map((_, i) => `seed ${p.seeds[0]} choice ${i}`))
      expect(first.map((s) => s.text)).toEqual(expected)
      expect(second.map((s) => s.text)).toEqual(expected)
      expect(refused).toBeGreaterThanOrEqual(1)
      expect(refused).toBeLessThanOrEqual(prompts.length)
      expect(peer.seen).toHaveLength(refused + 2 * prompts.length)
      expect(peer.seen.filter((s) => extended.some((k) => k in s.body))).toHaveLength(refused)
      expect(generator.splitsRequests).toBe(false)
      expect(fallbacks).toHaveLength(1)
      expect(fallbacks[0]).toMatch(/top_k|min_p|repetition_penalty/)
      expect(fallbacks[0]).toContain("without top_k, min_p and repetition_penalty from now on")
    }
  })

  it("gets through a server that refuses both n > 1 and the extended fields in one 422, as transformers serve does", async () => {
    const peer = await startPeer((seen) => {
      const refused = ["n", "top_k"].filter((k) => k in seen.body)
      return refused.length > 0 ? { status: 422, body: { detail: `Unsupported fields in the request: {${refused.map((k) => `'${k}'`).join(", ")}}` } } : completion(seen.body)
    })
    const fallbacks: string[] = []
    const generator = new OpenAIGenerator(backend(peer.url, { logprobs: false }), undefined, { onFallback: (r) => fallbacks.push(r) })
    const samples = await Effect.runPromise(generator.generate([prompts[0]!], { ...params, top_k: 40 }))
    generator.close()
    await peer.close()
    expect(samples.map((s) => s.text)).toEqual(["seed 101 choice 0", "seed 102 choice 0", "seed 103 choice 0"])
    expect([generator.splitsRequests, generator.dropsExtendedSampling]).toEqual([true, true])
    expect(fallbacks).toHaveLength(2)
  })

  it("still refuses at once a 422 that names a field other than the extended ones", async () => {
    const peer = await startPeer(() => ({ status: 422, body: { detail: "Unexpected keys in the request: {'seed'}" } }))
    const fallbacks: string[] = []
    const generator = new OpenAIGenerator(backend(peer.url), undefined, { onFallback: (r) => fallbacks.push(r) })
    const error = await failureOf(generator.generate([prompts[0]!], { ...params, top_k: 40 }))
    generator.close()
    await peer.close()
    expect(error._tag).toBe("InputInvalid")
    expect(error.message).toContain("HTTP 422")
    expect(peer.seen).toHaveLength(1)
    expect(fallbacks).toEqual([])
  })

  it("asks separately for the samples a server leaves out when it ignores n", async () => {
    const peer = await startPeer((seen) => completion(seen.body, 1))
    const generator = new OpenAIGenerator(backend(peer.url))
    const samples = await Effect.runPromise(generator.generate([prompts[0]!], params))
    generator.close()
    await peer.close()
    expect(samples.map((s) => s.text)).toEqual(["seed 101 choice 0", "seed 102 choice 0", "seed 103 choice 0"])
    expect(samples.map((s) => s.tokenCount)).toEqual([2, 2, 2])
    expect(samples[0]!.logprobs).toEqual([-0.25, -1.5])
    expect(samples.every((s) => s.entropies.length === 0 && s.promptTokens === 9)).toBe(true)
  })

  it("maps finish reasons: length, a named stop string, and end of sequence", async () => {
    const peer = await startPeer(() => ({
      status: 200,
      body: {
        choices: [
          { index: 2, message: { content: "c" }, finish_reason: "stop" },
          { index: 0, message: { content: "a" }, finish_reason: "length" },
          { index: 1, message: { content: "b" }, finish_reason: "stop", stop_reason: "###" }
        ],
        usage: { prompt_tokens: 4, completion_tokens: 6 }
      }
    }))
    const generator = new OpenAIGenerator(backend(peer.url, { logprobs: false }))
    const samples = await Effect.runPromise(generator.generate([prompts[0]!], params))
    generator.close()
    await peer.close()
    expect(samples.map((s) => [s.text, s.finish, s.tokenCount])).toEqual([["a", "length", 2], ["b", "stop", 2], ["c", "eos", 2]])
    expect(peer.seen[0]!.body).toMatchObject({ model: "peer-model", n: 3, seed: 101, temperature: 1, top_p: 1, max_tokens: 12 })
    expect(peer.seen[0]!.body).not.toHaveProperty("logprobs")
    expect(peer.seen[0]!.body).not.toHaveProperty("top_logprobs")
    expect(peer.seen[0]!.body).not.toHaveProperty("top_k")
  })

  it("keeps no more requests in flight than its concurrency", async () => {
    const peer = await startPeer((seen) => ({ ...(completion(seen.body) as object), delayMs: 150 }) as Answer)
    const generator = new OpenAIGenerator(backend(peer.url, { concurrency: 2 }))
    const many = Array.from({ length: 6 }, (_, i) => ({ messages: [{ role: "user" as const, content: `q${i}` }], seeds: [i] }))
    const samples = await Effect.runPromise(generator.generate(many, params))
    generator.close()
    await peer.close()
    expect(samples).toHaveLength(6)
    expect(peer.maxInFlight()).toBe(2)
  })

  it("sends the API key from the named variable and maps refusals to InputInvalid naming the field", async () => {
    const peer = await startPeer((seen) => {
      if (seen.headers.authorization !== "Bearer sekrit") return { status: 401, body: { error: { message: "Incorrect API key provided" } } }
      if (seen.body.model !== "peer-model") return { status: 404, body: { error: { message: `The model \`${seen.body.model}\` does not exist.` } } }
      return completion(seen.body)
    })
    const env = { PEER_KEY: "sekrit", WRONG_KEY: "nope" }
    const ok = await Effect.runPromise(OpenAIGenerator.fromSpec(backend(peer.url, { api_key_env: "PEER_KEY" }), env).pipe(Effect.flatMap((g) => g.generate([prompts[0]!], params))))
    expect(ok).toHaveLength(3)
    const unset = await failureOf(OpenAIGenerator.fromSpec(backend(peer.url, { api_key_env: "NO_SUCH_KEY" }), env))
    expect(unset.message).toContain("generator.backend.api_key_env: got \"NO_SUCH_KEY\"")
    const wrong = await failureOf(OpenAIGenerator.fromSpec(backend(peer.url, { api_key_env: "WRONG_KEY" }), env).pipe(Effect.flatMap((g) => g.generate([prompts[0]!], params))))
    expect(wrong._tag).toBe("InputInvalid")
    expect(wrong.message).toContain("generator.backend.api_key_env")
    expect(wrong.message).toContain("HTTP 401: Incorrect API key provided")
    const model = await failureOf(OpenAIGenerator.fromSpec(backend(peer.url, { api_key_env: "PEER_KEY", model: "gpt-9" }), env).pipe(Effect.flatMap((g) => g.generate([prompts[0]!], params))))
    expect(model._tag).toBe("InputInvalid")
    expect(model.message).toContain("generator.backend.model: got \"gpt-9\"")
    expect(isRetryable(model)).toBe(false)
    await peer.close()
  })

  it("gives each request its time limit and reports an unreachable server as a retryable failure", async () => {
    const silent = await startPeer(() => "hang")
    const slow = await failureOf(new OpenAIGenerator(backend(silent.url, { timeout_ms: 300 })).generate([prompts[0]!], params))
    expect(slow._tag).toBe("InferenceFailed")
    expect(slow.message).toContain("no complete answer within 300 ms")
    expect(isRetryable(slow)).toBe(true)
    expect(silent.seen).toHaveLength(1)
    await silent.close()
    const closed = await startPeer(() => "hang")
    await closed.close()
    const refused = await failureOf(new OpenAIGenerator(backend(closed.url)).generate([prompts[0]!], params))
    expect(refused._tag).toBe("InferenceFailed")
    expect(refused.message).toContain("ECONNREFUSED")
    expect(isRetryable(refused)).toBe(true)
  })
})

describe("the OpenAI-compatible backend against winnow serve", () => {
  let server: RunningServe
  beforeAll(async () => {
    server = await startTinyChatServe()
  })
  afterAll(async () => server?.close())

  it("samples n responses per prompt with logprobs and usage, reproducibly", async () => {
    const generator = new OpenAIGenerator(backend(server.url, { model: "tiny-chat", concurrency: 2 }))
    const first = await Effect.runPromise(generator.generate(prompts, params))
    const again = await Effect.runPromise(generator.generate(prompts, params))
    generator.close()
    expect(first.map((s) => [s.prompt, s.sample])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    const withoutLogprobs = (samples: typeof first) => samples.map(({ logprobs: _, ...rest }) => rest)
    expect(withoutLogprobs(again)).toEqual(withoutLogprobs(first))
    again.forEach((s, i) => s.logprobs.forEach((lp, t) => expect(lp).toBeCloseTo(first[i]!.logprobs[t]!, 5)))
    expect(generator.splitsRequests).toBe(false)
    for (const sample of first) {
      expect(sample.logprobs.length).toBe(sample.tokenCount)
      expect(sample.tokenCount).toBeLessThanOrEqual(12)
      expect(sample.promptTokens).toBeGreaterThan(3)
      expect(sample.entropies).toEqual([])
      expect(["eos", "length"]).toContain(sample.finish)
    }
    expect(new Set(first.map((s) => s.text)).size).toBeGreaterThan(3)
  })

  it("reports stop-string endings as finish stop", async () => {
    const generator = new OpenAIGenerator(backend(server.url, { model: "tiny-chat" }))
    const single = Array.from({ length: 4 }, (_, i) => ({ messages: [{ role: "user" as const, content: "Say something." }], seeds: [i + 1] }))
    const samples = await Effect.runPromise(generator.generate(single, { ...params, max_new_tokens: 40, stop: [" "] }))
    generator.close()
    expect(samples.some((s) => s.finish === "stop")).toBe(true)
    for (const sample of samples) expect(sample.text).not.toContain(" ")
  })
})
