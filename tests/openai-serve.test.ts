import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, runCli } from "./support/harness.js"

/** `winnow serve` as users run it: the built CLI in a child process, on a free port. */
const startServeProcess = (args: string[]): Promise<{ child: ChildProcess; url: string; model: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "serve", ...args, "--port", "0", "--json"], {
      env: { ...process.env, WINNOW_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stderr!.on("data", (d) => (stderr += d))
    child.stdout!.on("data", (d) => {
      stdout += d
      const line = stdout.split("\n")[0]!
      if (stdout.includes("\n")) resolve({ child, ...(JSON.parse(line) as { url: string; model: string }) })
    })
    child.on("exit", (code) => reject(new Error(`winnow serve exited with ${code}: ${stderr}`)))
  })

const stopProcess = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.removeAllListeners("exit")
    child.on("exit", (code) => resolve(code))
    child.kill("SIGTERM")
  })

const bytesText = (content: ReadonlyArray<{ bytes: number[] | null }>): string =>
  Buffer.from(content.flatMap((t) => t.bytes ?? [])).toString("utf8")

describe("winnow serve, driven by the official openai client", () => {
  let server: { child: ChildProcess; url: string; model: string }
  let client: OpenAI

  beforeAll(async () => {
    server = await startServeProcess([join(repoRoot, "examples/models/tiny-chat")])
    client = new OpenAI({ baseURL: server.url, apiKey: "not-checked", maxRetries: 0 })
  })
  afterAll(async () => {
    if (server) expect(await stopProcess(server.child)).toBe(0)
  })

  it("lists its model and answers the health check", async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual(["tiny-chat"])
    const health = await fetch(server.url.replace(/\/v1$/, "/health"))
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({
      status: "ok",
      model: "tiny-chat",
      pool: { models: { [join(repoRoot, "examples/models/tiny-chat")]: { threads: [0], intraOpThreads: expect.any(Number) } } }
    })
  })

  it("samples n choices with usage and per-token logprobs whose bytes spell the text", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [{ role: "system", content: "你是一个助手。" }, { role: "user", content: "写一句关于秋天的话。" }],
      n: 4,
      temperature: 1,
      top_p: 0.95,
      max_tokens: 12,
      seed: 7,
      logprobs: true
    })
    expect(completion.object).toBe("chat.completion")
    expect(completion.model).toBe("tiny-chat")
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2, 3])
    let tokens = 0
    for (const choice of completion.choices) {
      expect(choice.message.role).toBe("assistant")
      expect(["stop", "length"]).toContain(choice.finish_reason)
      const content = choice.logprobs!.content!
      expect(content.length).toBeGreaterThan(0)
      expect(content.length).toBeLessThanOrEqual(12)
      for (const t of content) {
        expect(t.logprob).toBeLessThanOrEqual(0)
        expect(t.bytes!.length).toBeGreaterThan(0)
      }
      if (choice.finish_reason === "length") expect(content.length).toBe(12)
      expect(bytesText(content)).toBe(choice.message.content)
      tokens += content.length
    }
    expect(new Set(completion.choices.map((c) => c.message.content)).size).toBeGreaterThan(1)
    expect(completion.usage!.completion_tokens).toBe(tokens)
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(5)
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + tokens)
  })

  it("reports top_logprobs: the most likely tokens of each step, best first, the sampled one among them under greedy decoding", async () => {
    const request = { model: "tiny-chat", messages: [{ role: "user" as const, content: "你好" }], max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3 }
    const completion = await client.chat.completions.create(request)
    const content = completion.choices[0]!.logprobs!.content!
    expect(content.length).toBeGreaterThan(0)
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(3)
      expect(entry.top_logprobs[0]).toEqual({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes })
      expect(entry.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(entry.top_logprobs[1]!.logprob)
      expect(entry.top_logprobs[1]!.logprob).toBeGreaterThanOrEqual(entry.top_logprobs[2]!.logprob)
    }
    const streamed: typeof content = []
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []))
    expect(streamed).toEqual(content)
    const plain = await client.chat.completions.create({ ...request, top_logprobs: 0 })
    expect(plain.choices[0]!.logprobs!.content![0]!.top_logprobs).toEqual([])
  })

  it("gives the same choices for the same seed and other choices for another seed", async () => {
    const ask = (seed: number) =>
      client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Tell me about rivers." }], n: 3, max_tokens: 10, seed, logprobs: true })
    const [a, b, c] = await Promise.all([ask(11), ask(11), ask(12)])
    const view = (r: OpenAI.ChatCompletion) => r.choices.map((ch) => ch.message.content)
    expect(view(b)).toEqual(view(a))
    b.choices.forEach((ch, i) => ch.logprobs!.content!.forEach((t, j) => expect(t.logprob).toBeCloseTo(a.choices[i]!.logprobs!.content![j]!.logprob, 5)))
    expect(view(c)).not.toEqual(view(a))
  })

  it("decodes concurrent requests as one batch, each with its own sampling parameters, with the samples each gets alone", async () => {
    const questions = ["Tell me about rivers.", "讲一个关于月亮的故事。", "What is a good breakfast?", "为什么天空是蓝色的？"]
    const own: Array<Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>> = [
      { temperature: 0.9, max_tokens: 40 },
      { temperature: 0, max_tokens: 12 },
      { temperature: 1.3, top_p: 0.8, max_tokens: 30, stop: ["e"] },
      { temperature: 0.7, max_tokens: 40, frequency_penalty: 0 }
    ]
    const ask = (content: string, i: number) =>
      client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content }], n: 2, seed: 100 + i, logprobs: true, ...own[i] })
    const view = (r: OpenAI.ChatCompletion) => r.choices.map((ch) => [ch.message.content, ch.finish_reason, ch.logprobs!.content!.map((t) => t.token)])
    const health = async () => ((await (await fetch(server.url.replace(/\/v1$/, "/health"))).json()) as { generation: { calls: number; requests: number } }).generation
    const alone = []
    for (const [i, q] of questions.entries()) alone.push(view(await ask(q, i)))
    const before = await health()
    const together = (await Promise.all(questions.map(ask))).map(view)
    const after = await health()
    expect(after.requests - before.requests).toBe(questions.length)
    expect(after.calls - before.calls).toBeLessThan(questions.length)
    expect(together).toEqual(alone)
  })

  it("lets a request that arrives while a batch decodes join it at the next step and answers it before the batch ends (continuous batching)", async () => {
    const health = async () => ((await (await fetch(server.url.replace(/\/v1$/, "/health"))).json()) as { generation: { calls: number; joined: number } }).generation
    const story = { model: "tiny-chat", messages: [{ role: "user" as const, content: "讲一个很长的故事。" }], max_tokens: 48, temperature: 0.8 }
    const short = { model: "tiny-chat", messages: [{ role: "user" as const, content: "Say hi." }], max_tokens: 4, temperature: 0 }
    let long = { ...story, seed: 0 }
    let longAlone = await client.chat.completions.create(long)
    for (let seed = 1; seed < 40 && longAlone.usage!.completion_tokens < story.max_tokens; seed++) {
      long = { ...story, seed }
      longAlone = await client.chat.completions.create(long)
    }
    expect(longAlone.usage!.completion_tokens).toBe(story.max_tokens)
    const shortAlone = await client.chat.completions.create(short)
    const before = await health()
    const events: string[] = []
    const stream = await client.chat.completions.create({ ...long, stream: true })
    const reading = (async () => {
      let text = ""
      for await (const chunk of stream) {
        if (text === "" && chunk.choices[0]?.delta.content) events.push("long started")
        text += chunk.choices[0]?.delta.content ?? ""
      }
      events.push("long ended")
      return text
    })()
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const joined = await client.chat.completions.create(short)
    events.push("short answered")
    expect(await reading).toBe(longAlone.choices[0]!.message.content)
    expect(events).toEqual(["long started", "short answered", "long ended"])
    expect(joined.choices[0]!.message.content).toBe(shortAlone.choices[0]!.message.content)
    const after = await health()
    expect([after.calls - before.calls, after.joined - before.joined]).toEqual([1, 1])
  })

  /** Reads a stream: each choice's text, its content chunks, finish reasons, streamed logprob tokens and the usage. */
  const collect = async (stream: AsyncIterable<OpenAI.ChatCompletionChunk>, n: number) => {
    const got = { texts: Array<string>(n).fill(""), pieces: Array.from({ length: n }, () => [] as string[]), finishes: Array<string | null>(n).fill(null), tokens: Array.from({ length: n }, () => [] as string[]), usage: undefined as OpenAI.CompletionUsage | null | undefined }
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        if (choice.delta.content) got.pieces[choice.index]!.push(choice.delta.content)
        got.texts[choice.index] += choice.delta.content ?? ""
        for (const t of choice.logprobs?.content ?? []) got.tokens[choice.index]!.push(t.token)
        if (choice.finish_reason) got.finishes[choice.index] = choice.finish_reason
      }
      if (chunk.usage) got.usage = chunk.usage
    }
    return got
  }

  it("streams each choice token by token as it is sampled, adding up to the unstreamed answer", async () => {
    const request = { model: "tiny-chat", messages: [{ role: "user" as const, content: "早上好，讲讲今天的天气。" }], n: 2, max_tokens: 24, seed: 5, logprobs: true }
    const whole = await client.chat.completions.create(request)
    const got = await collect(await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }), 2)
    expect(got.texts).toEqual(whole.choices.map((c) => c.message.content))
    expect(got.finishes).toEqual(whole.choices.map((c) => c.finish_reason))
    expect(got.usage).toEqual(whole.usage)
    expect(got.tokens).toEqual(whole.choices.map((c) => c.logprobs!.content!.map((t) => t.token)))
    for (const pieces of got.pieces) {
      expect(pieces.length).toBeGreaterThan(3)
      for (const piece of pieces) expect(piece).not.toContain("\uFFFD")
    }
  })

  it("stops generating for a client that goes away mid-stream", async () => {
    const health = async () => ((await (await fetch(server.url.replace(/\/v1$/, "/health"))).json()) as { generation: { cancelled: number } }).generation
    const before = await health()
    const gone = new AbortController()
    const response = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "讲一个很长的故事。" }], max_tokens: 400, seed: 7, stream: true }),
      signal: gone.signal
    })
    const reader = response.body!.getReader()
    await reader.read()
    await reader.read()
    gone.abort()
    let after = before
    for (let i = 0; i < 100 && after.cancelled === before.cancelled; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      after = await health()
    }
    expect(after.cancelled).toBe(before.cancelled + 1)
    const next = await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 3 })
    expect(next.choices[0]!.finish_reason).toBeDefined()
  })

  it("keeps decoding a shared batch for the clients still there when one of them leaves", async () => {
    const story = { model: "tiny-chat", messages: [{ role: "user" as const, content: "讲一个故事。" }], max_tokens: 60, temperature: 0.8 }
    const alone = await client.chat.completions.create({ ...story, seed: 22 })
    const first = client.chat.completions.create({ ...story, seed: 20 })
    const gone = new AbortController()
    const leaving = fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...story, seed: 21, stream: true }),
      signal: gone.signal
    }).then(async (response) => {
      const reader = response.body!.getReader()
      await reader.read()
      await reader.read()
      gone.abort()
    })
    const staying = client.chat.completions.create({ ...story, seed: 22 })
    await Promise.all([first, leaving])
    expect((await staying).choices.map((c) => c.message.content)).toEqual(alone.choices.map((c) => c.message.content))
    expect((await client.models.list()).data).toHaveLength(1)
  })

  it("never streams a stop string, holding back what could begin one", async () => {
    let stopped = 0
    for (const seed of [1, 2, 3]) {
      const request = { model: "tiny-chat", messages: [{ role: "user" as const, content: "Say something." }], n: 3, max_tokens: 40, seed, stop: [" t", "\n\n"] }
      const whole = await client.chat.completions.create(request)
      const got = await collect(await client.chat.completions.create({ ...request, stream: true }), 3)
      expect(got.texts).toEqual(whole.choices.map((c) => c.message.content))
      for (const text of got.texts) expect(text).not.toContain(" t")
      stopped += whole.choices.filter((c) => (c as unknown as { stop_reason: unknown }).stop_reason === " t").length
    }
    expect(stopped).toBeGreaterThan(0)
  })

  it("ends a choice at a stop string, leaving the stop string out", async () => {
    const choices = (await Promise.all([1, 2].map(async (seed) =>
      (await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Say something." }], n: seed, max_tokens: 40, seed, stop: [" ", "\n\n"] })).choices))).flat()
    const stopped = choices.filter((c) => c.finish_reason === "stop")
    expect(stopped.length).toBeGreaterThan(0)
    for (const choice of choices) expect(choice.message.content).not.toContain(" ")
    expect(stopped.map((c) => (c as unknown as { stop_reason: unknown }).stop_reason)).toContain(" ")
  })

  it("refuses bad requests with 400 in OpenAI's error shape, naming the field", async () => {
    const bad = async (body: Record<string, unknown>) => {
      try {
        await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], ...body } as never)
      } catch (error) {
        return error as InstanceType<typeof OpenAI.APIError>
      }
      throw new Error(`accepted ${JSON.stringify(body)}`)
    }
    const n = await bad({ n: 0 })
    expect(n).toBeInstanceOf(OpenAI.BadRequestError)
    expect(n.status).toBe(400)
    expect(n.param).toBe("n")
    expect(n.type).toBe("invalid_request_error")
    expect(n.message).toContain("n: got 0, expected a value between 1 and 256")
    const temperature = await bad({ temperature: 7 })
    expect(temperature.param).toBe("temperature")
    const role = await bad({ messages: [{ role: "robot", content: "hi" }] })
    expect(role.param).toBe("messages[0].role")
    const tools = await bad({ tools: [{ type: "function", function: { name: "f" } }] })
    expect([tools.status, tools.param]).toEqual([400, "tools"])
    const long = await bad({ max_tokens: 5000 })
    expect([long.status, long.param, long.code]).toEqual([400, "max_tokens", "context_length_exceeded"])
    const model = await bad({ model: "gpt-4o" })
    expect(model).toBeInstanceOf(OpenAI.NotFoundError)
    expect(model.code).toBe("model_not_found")
    const raw = await fetch(`${server.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" })
    expect(raw.status).toBe(400)
    expect(((await raw.json()) as { error: unknown }).error).toMatchObject({ type: "invalid_request_error", param: null })
  })

  it("answers an over-large body with 413 in OpenAI's error shape, received by the client, and goes on serving", async () => {
    const huge = JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "x".repeat(17 * 1024 * 1024) }] })
    const response = await fetch(`${server.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: huge })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("larger than 16777216 bytes") })
    const after = await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 2, seed: 1 })
    expect(after.choices).toHaveLength(1)
  })

  it("rejects a --variant the model directory does not have with exit code 2, naming the option", async () => {
    const run = await runCli(["serve", join(repoRoot, "examples/models/tiny-chat"), "--variant", "q4", "--port", "0"], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--variant: got "q4", expected the name of an ONNX file in')
    expect(run.stdout).toBe("")
  })

  it("rejects a missing model directory with exit code 2 before listening", async () => {
    const run = await runCli(["serve", join(repoRoot, "examples/models/no-such-model"), "--port", "0"], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("no-such-model")
    expect(run.stdout).toBe("")
  })

  it("rejects an unreadable WINNOW_MODEL_MEMORY_GIB with exit code 2, naming the variable", async () => {
    const run = await runCli(["serve", join(repoRoot, "examples/models/tiny-chat"), "--port", "0"], { WINNOW_MODEL_MEMORY_GIB: "lots" })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('WINNOW_MODEL_MEMORY_GIB: got "lots", expected a positive number of GiB')
    expect(run.stdout).toBe("")
  })
})
