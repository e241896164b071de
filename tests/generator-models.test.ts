import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { IncrementalDetokenizer } from "../models/incrementalText.js"
import { LocalGenerator } from "../models/localGenerator.js"
import { readModelDir } from "../models/modelDir.js"
import { sampleSeed } from "../core/seeds.js"
import { TextTokenizer } from "../models/tokenizer.js"
import { decoderFiles, decoderGraph, describeDecoder, TINY_CHAT_OPTIONS, writeModelDir } from "./fixtures/index.js"
import type { GraphBuilder } from "./fixtures/onnx/graph.js"
import { tempDir } from "./support/harness.js"

const SETTINGS = { intraOpThreads: 1 }

/** Writes the tiny chat decoder with its graph changed by `edit` (to make models winnow must refuse). */
const editedDecoder = (edit: (g: GraphBuilder) => void): string => {
  const dir = join(tempDir("unsupported"), "model")
  const info = describeDecoder(TINY_CHAT_OPTIONS)
  const graph = decoderGraph(info, TINY_CHAT_OPTIONS)
  edit(graph)
  writeModelDir(dir, { ...decoderFiles(TINY_CHAT_OPTIONS), "onnx/model.onnx": graph.toModel().model })
  return dir
}

const loadError = async (dir: string): Promise<Error> => {
  const error = await LocalGenerator.load(dir, SETTINGS).then(
    () => undefined,
    (e: Error) => e
  )
  expect(error).toBeDefined()
  return error!
}

describe("models winnow does not understand", () => {
  it("names an input it does not know", async () => {
    const error = await loadError(editedDecoder((g) => void g.input("pixel_values", "float32", [1, 3])))
    expect(error).toMatchObject({ _tag: "ModelUnsupported" })
    expect(error.message).toContain('input "pixel_values" is not understood')
  })

  it("names a KV input of a type it cannot feed", async () => {
    const error = await loadError(editedDecoder((g) => void g.input("past_key_values.2.key", "int64", ["batch_size", 2, "past_sequence_length", 16])))
    expect(error.message).toMatch(/input "past_key_values\.2\.(key|value)"/)
  })

  it("names a missing present output", async () => {
    const dir = join(tempDir("unsupported"), "model")
    const info = describeDecoder(TINY_CHAT_OPTIONS)
    const graph = decoderGraph(info, TINY_CHAT_OPTIONS)
    const model = graph.toModel().model
    // Renaming the output in the serialized graph leaves present.1.value undeclared.
    const bytes = Buffer.from(model)
    const from = Buffer.from("present.1.value")
    const to = Buffer.from("present.1.extra")
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) to.copy(bytes, at)
    writeModelDir(dir, { ...decoderFiles(TINY_CHAT_OPTIONS), "onnx/model.onnx": bytes })
    const error = await loadError(dir)
    expect(error.message).toContain('output "present.1.value" is missing')
  })
})

describe("batching under a token budget", () => {
  it("gives every sample the same tokens whatever the batch limits (split groups, many batches)", async () => {
    const dir = join(tempDir("budget"), "model")
    writeModelDir(dir, decoderFiles(TINY_CHAT_OPTIONS))
    const prompts = ["你好", "Tell me a story about a cat.", "二加三等于几？请用中文回答。", "Hi"].map((content, p) => ({
      messages: [{ role: "user" as const, content }],
      seeds: Array.from({ length: p === 1 ? 7 : 3 }, (_, i) => sampleSeed({ seed: 3, round: 1, promptId: String(p), sampleIndex: i }))
    }))
    const params = { temperature: 0.9, top_k: 40, top_p: 0.95, min_p: 0.02, repetition_penalty: 1.1, max_new_tokens: 24 }
    const roomy = await LocalGenerator.load(dir, SETTINGS)
    const tight = await LocalGenerator.load(dir, SETTINGS, undefined, { maxRows: 4, maxKvTokens: 200, maxPrefillTokens: 64, maxPaddingRatio: 1.1 })
    try {
      const a = await roomy.generate(prompts, params)
      const b = await tight.generate(prompts, params)
      expect(a.map((s) => [s.prompt, s.sample])).toEqual(prompts.flatMap((p, i) => p.seeds.map((_, s) => [i, s])))
      expect(b.map((s) => [s.prompt, s.sample, s.text, s.finish])).toEqual(a.map((s) => [s.prompt, s.sample, s.text, s.finish]))
      b.forEach((s, i) => s.logprobs.forEach((lp, t) => expect(lp).toBeCloseTo(a[i]!.logprobs[t]!, 4)))
      expect(new Set(a.filter((s) => s.prompt === 1).map((s) => s.text)).size).toBeGreaterThan(1)
    } finally {
      await roomy.close()
      await tight.close()
    }
  })
})

describe("prompts with their own sampling parameters in one batch", () => {
  it("gives each prompt the samples it gets alone: temperature, top-k/p, min-p, penalty, limits, stops, EOS and top_logprobs", async () => {
    const dir = join(tempDir("mixed"), "model")
    writeModelDir(dir, decoderFiles(TINY_CHAT_OPTIONS))
    const base = { temperature: 0.9, top_k: 40, top_p: 0.95, min_p: 0, repetition_penalty: 1, max_new_tokens: 24 }
    const own = [
      base,
      { ...base, temperature: 0, max_new_tokens: 9 },
      { ...base, temperature: 1.2, top_k: 0, top_p: 0.7, min_p: 0.05, repetition_penalty: 1.3, stop: ["，", "e"] },
      { ...base, max_new_tokens: 30, ignore_eos: true, top_logprobs: 3 }
    ]
    const prompts = ["你好", "Tell me a story about a cat.", "二加三等于几？", "Hi"].map((content, p) => ({
      messages: [{ role: "user" as const, content }],
      seeds: Array.from({ length: 3 }, (_, i) => sampleSeed({ seed: 5, round: 1, promptId: String(p), sampleIndex: i })),
      params: own[p]!
    }))
    const generator = await LocalGenerator.load(dir, SETTINGS)
    try {
      const together = await generator.generate(prompts, base)
      const alone: typeof together = []
      for (const [p, prompt] of prompts.entries()) {
        alone.push(...(await generator.generate([prompt], own[p]!)).map((s) => ({ ...s, prompt: p })))
      }
      const view = (s: (typeof together)[number]) => [s.prompt, s.sample, s.text, s.finish, s.tokenCount, s.alternatives?.length ?? 0]
      expect(together.map(view)).toEqual(alone.map(view))
      together.forEach((s, i) => s.logprobs.forEach((lp, t) => expect(lp).toBeCloseTo(alone[i]!.logprobs[t]!, 4)))
      expect(together.filter((s) => s.prompt === 3).every((s) => s.tokenCount === 30 && s.alternatives?.length === 30)).toBe(true)
      expect(together.filter((s) => s.prompt === 1).every((s) => s.tokenCount <= 9)).toBe(true)
      expect(new Set(together.filter((s) => s.prompt === 1).map((s) => s.text)).size).toBe(1)
    } finally {
      await generator.close()
    }
  })
})

describe("incremental detokenization", () => {
  it("streams Chinese token by token without broken characters, and the deltas add up to the text", async () => {
    const dir = join(tempDir("stream"), "model")
    writeModelDir(dir, decoderFiles(TINY_CHAT_OPTIONS))
    const tokenizer = TextTokenizer.load(readModelDir(dir, "model", "test"))
    const text = "你好，世界！今天天气很好，龘靐齉。我们一起去公园散步吧🙂 Hello 世界"
    const ids = await tokenizer.encode(text)
    const fragments = await Promise.all(ids.map((id) => tokenizer.decode([id])))
    expect(fragments.some((f) => f.includes("\uFFFD"))).toBe(true)
    const stream = new IncrementalDetokenizer(tokenizer)
    const deltas: string[] = []
    for (let i = 1; i <= ids.length; i++) deltas.push(await stream.push(ids.slice(0, i)))
    deltas.push(await stream.finish(ids))
    expect(deltas.join("")).toBe(text)
    for (const delta of deltas) expect(delta).not.toContain("\uFFFD")
  })
})

describe("the model's position limit", () => {
  it("ends samples at max_position_embeddings and refuses prompts that do not fit, naming the prompt", async () => {
    const dir = join(tempDir("positions"), "model")
    writeModelDir(dir, decoderFiles({ ...TINY_CHAT_OPTIONS, maxPositions: 64, eosBias: -100, eosBiasRamp: 0 }))
    const generator = await LocalGenerator.load(dir, SETTINGS)
    try {
      const short = "你好"
      const promptTokens = (await generator.encodeChat([{ role: "user", content: short }])).length
      const [sample] = await generator.generate([{ messages: [{ role: "user", content: short }], seeds: [[1, 2, 3, 4]] }], {
        temperature: 1, top_k: 20, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 200
      })
      expect(sample).toMatchObject({ finish: "length", tokenCount: 64 - promptTokens })
      const long = "今天天气很好。".repeat(40)
      const error = await generator.generate([{ messages: [{ role: "user", content: short }], seeds: [[1, 2, 3, 4]] }, { messages: [{ role: "user", content: long }], seeds: [[1, 2, 3, 4]] }], {
        temperature: 1, top_k: 20, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 4
      }).then(() => undefined, (e: Error) => e)
      expect(error).toMatchObject({ _tag: "InputInvalid" })
      expect(error!.message).toContain("prompts[1]")
      expect(error!.message).toContain("64 positions")
    } finally {
      await generator.close()
    }
  })
})
