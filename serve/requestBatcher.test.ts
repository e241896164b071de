import { describe, expect, it } from "vitest"
import type { GenerationParams, GenerationPrompt, SampleText } from "../models/localGenerator.js"
import { RequestBatcher, type StartGeneration } from "./requestBatcher.js"

const params = (temperature: number): GenerationParams => ({ temperature, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 4 })
const prompt = (text: string, n: number): GenerationPrompt => ({ messages: [{ role: "user", content: text }], seeds: Array.from({ length: n }, (_, i) => [i, 0, 0, 0] as const) })

/** Records each call and the prompts that join it, and answers them when told to: every sample's text names its prompt's message. */
const scheduler = () => {
  const calls: Array<{ texts: string[]; temperatures: number[]; signal: AbortSignal | undefined; answer: (prompt: number) => void; finish: (error?: Error, returned?: number[]) => void }> = []
  const start: StartGeneration = (prompts, p, hooks, _onTokens, signal) => {
    const all = [...prompts]
    let end: (error?: Error) => void = () => {}
    const result = new Promise<void>((resolve, reject) => (end = (error) => (error ? reject(error) : resolve())))
    const samplesOf = (pr: GenerationPrompt, i: number) => pr.seeds.map((_, s): SampleText => ({
      prompt: i, sample: s, text: `${pr.messages[0]!.content}#${s}`, tokenCount: 1, promptTokens: 1, logprobs: [], entropies: [], finish: "length"
    }))
    const answered = new Set<number>()
    const answer = (i: number) => (answered.add(i), hooks.onDone(i, samplesOf(all[i]!, i)))
    const call = {
      texts: all.map((pr) => pr.messages[0]!.content),
      temperatures: all.map((pr) => (pr.params ?? p).temperature),
      signal,
      answer,
      finish: (error?: Error, returned: number[] = []) => {
        if (!error) all.forEach((_, i) => answered.has(i) || returned.includes(i) || answer(i))
        if (returned.length > 0) hooks.onReturned(returned)
        end(error)
      }
    }
    calls.push(call)
    return {
      join: (joined) => joined.forEach(({ index, prompt }) => {
        all[index] = prompt
        call.texts.push(prompt.messages[0]!.content)
        call.temperatures.push((prompt.params ?? p).temperature)
      }),
      result
    }
  }
  return { calls, generate: start }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe("RequestBatcher", () => {
  it("sends a request at once while a slot is free, then merges the waiting ones, each with its own parameters", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 1, maxRows: 5, continuous: false })
    const a = batcher.submit(prompt("a", 2), params(1))
    const b = batcher.submit(prompt("b", 2), params(1))
    const c = batcher.submit(prompt("c", 1), params(0.5))
    const d = batcher.submit(prompt("d", 2), params(1))
    const e = batcher.submit(prompt("e", 2), params(0))
    expect(calls.map((x) => x.texts)).toEqual([["a"]])
    calls[0]!.finish()
    await tick()
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b", "c", "d"]])
    expect(calls[1]!.temperatures).toEqual([1, 0.5, 1])
    expect((await a).map((s) => s.text)).toEqual(["a#0", "a#1"])
    calls[1]!.finish()
    await tick()
    expect(calls[2]).toMatchObject({ texts: ["e"], temperatures: [0] })
    expect((await c).map((s) => [s.prompt, s.text])).toEqual([[0, "c#0"]])
    expect((await d).map((s) => [s.prompt, s.text])).toEqual([[0, "d#0"], [0, "d#1"]])
    expect((await b).map((s) => s.text)).toEqual(["b#0", "b#1"])
    calls[2]!.finish()
    expect((await e).map((s) => s.text)).toEqual(["e#0", "e#1"])
    expect(batcher.stats).toEqual({ calls: 3, requests: 5, joined: 0, cancelled: 0 })
  })

  it("fails every request of a failed call and keeps serving the next ones", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 1, maxRows: 8, continuous: false })
    const first = batcher.submit(prompt("a", 1), params(1))
    const merged = [batcher.submit(prompt("b", 1), params(1)), batcher.submit(prompt("c", 1), params(1))]
    calls[0]!.finish()
    await first
    await tick()
    calls[1]!.finish(new Error("thread crashed"))
    const settled = await Promise.allSettled(merged)
    expect(settled.map((r) => r.status === "rejected" && (r.reason as Error).message)).toEqual(["thread crashed", "thread crashed"])
    await tick()
    const later = batcher.submit(prompt("d", 1), params(1))
    calls[2]!.finish()
    expect((await later).map((s) => s.text)).toEqual(["d#0"])
  })

  it("keeps one call in flight per slot and gives each freed slot an even share of the waiting requests", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 2, maxRows: 8, continuous: false })
    const all = ["a", "b", "c", "d", "e", "f", "g", "h"].map((t) => batcher.submit(prompt(t, 1), params(1)))
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b"]])
    calls[1]!.finish()
    await tick()
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b"], ["c", "d", "e"]])
    calls[0]!.finish()
    await tick()
    expect(calls[3]!.texts).toEqual(["f", "g"])
    calls[2]!.finish()
    await tick()
    expect(calls[4]!.texts).toEqual(["h"])
    calls[3]!.finish()
    calls[4]!.finish()
    expect((await Promise.all(all)).map((s) => s[0]!.text)).toEqual(["a#0", "b#0", "c#0", "d#0", "e#0", "f#0", "g#0", "h#0"])
  })

  it("drops a waiting request whose client went away, and stops a call only when all its clients are gone", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 1, maxRows: 8, continuous: false })
    const clients = ["a", "b", "c", "d"].map(() => new AbortController())
    const results = ["a", "b", "c", "d"].map((t, i) => batcher.submit(prompt(t, 1), params(1), { signal: clients[i]!.signal }))
    clients[1]!.abort()
    await expect(results[1]).rejects.toThrow("cancelled")
    calls[0]!.finish()
    await tick()
    expect(calls[1]!.texts).toEqual(["c", "d"])
    clients[2]!.abort()
    expect(calls[1]!.signal!.aborted).toBe(false)
    clients[3]!.abort()
    expect(calls[1]!.signal!.aborted).toBe(true)
    calls[1]!.finish(new Error("cancelled"))
    await Promise.allSettled(results)
    expect(batcher.stats).toEqual({ calls: 2, requests: 3, joined: 0, cancelled: 2 })
    const gone = new AbortController()
    gone.abort()
    await expect(batcher.submit(prompt("e", 1), params(1), { signal: gone.signal })).rejects.toThrow("cancelled")
  })

  it("lets requests that arrive while every slot decodes join the call with the fewest rows, answering each as its samples end", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 2, maxRows: 4 })
    const a = batcher.submit(prompt("a", 3), params(1))
    const b = batcher.submit(prompt("b", 1), params(1))
    const c = batcher.submit(prompt("c", 2), params(0.5))
    const d = batcher.submit(prompt("d", 2), params(1))
    const e = batcher.submit(prompt("e", 2), params(1))
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b", "c"]])
    expect(calls[1]!.temperatures).toEqual([1, 0.5])
    calls[1]!.answer(0)
    expect((await b).map((s) => s.text)).toEqual(["b#0"])
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b", "c", "d"]])
    calls[0]!.finish()
    expect((await a).map((s) => s.text)).toEqual(["a#0", "a#1", "a#2"])
    await tick()
    expect(calls.map((x) => x.texts)).toEqual([["a"], ["b", "c", "d"], ["e"]])
    calls[1]!.finish()
    calls[2]!.finish()
    expect((await Promise.all([c, d, e])).map((s) => s.map((x) => [x.prompt, x.text]))).toEqual([[[0, "c#0"], [0, "c#1"]], [[0, "d#0"], [0, "d#1"]], [[0, "e#0"], [0, "e#1"]]])
    expect(batcher.stats).toEqual({ calls: 3, requests: 5, joined: 2, cancelled: 0 })
  })

  it("sends a joined request that its call never admitted out again", async () => {
    const { calls, generate } = scheduler()
    const batcher = new RequestBatcher(generate, { slots: 1, maxRows: 8 })
    const a = batcher.submit(prompt("a", 1), params(1))
    const b = batcher.submit(prompt("b", 1), params(1))
    expect(calls.map((x) => x.texts)).toEqual([["a", "b"]])
    calls[0]!.finish(undefined, [1])
    expect((await a).map((s) => s.text)).toEqual(["a#0"])
    await tick()
    expect(calls.map((x) => x.texts)).toEqual([["a", "b"], ["b"]])
    calls[1]!.finish()
    expect((await b).map((s) => s.text)).toEqual(["b#0"])
  })
})
