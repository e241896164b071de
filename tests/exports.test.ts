import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DecoderSession } from "../models/decoderSession.js"
import { generateBatch } from "../models/generate.js"
import { LocalGenerator } from "../models/localGenerator.js"
import { readModelDir } from "../models/modelDir.js"
import { sampleSeed } from "../core/seeds.js"
import type { ChatMessage } from "../models/tokenizer.js"
import { TextTokenizer } from "../models/tokenizer.js"
import { exportsDir } from "./fixtures/exports/makeExports.js"

/** One reference greedy generation recorded by transformers (see make_exports.py). */
interface Reference {
  readonly messages: ChatMessage[]
  readonly prompt_ids: number[]
  readonly tokens: number[]
  readonly text: string
  readonly finish: "eos" | "length"
  readonly margins: number[]
}

interface ExportEntry {
  readonly model_type: string
  readonly files: string[]
  readonly eos_token_id: number[]
  readonly pad_token_id: number
  readonly max_new_tokens: number
  readonly references: Reference[]
  /** For variants whose weights differ from the transformers model: greedy tokens of ONNX Runtime for Python recomputing the full sequence each step. */
  readonly variant_references?: Record<string, Array<Pick<Reference, "tokens" | "finish" | "margins">>>
}

const references = JSON.parse(readFileSync(join(exportsDir(), "references.json"), "utf8")) as { models: Record<string, ExportEntry> }

/**
 * (model folder, ONNX variant, smallest reference margin a token comparison trusts). Dynamic int8
 * quantization (`model_quantized`) scales activations per tensor, so its numbers depend on the
 * batch and on KV-cache reuse: only its first token (one unpadded prefill, the same computation as
 * the reference's first step) can be compared; the decode tests run it that way.
 */
const CASES: ReadonlyArray<readonly [string, string | undefined, number]> = [
  ["llama", undefined, 0],
  ["qwen2", undefined, 0],
  ["qwen2", "fp16", 0.3],
  ["qwen2", "quantized", 0.05],
  ["qwen2", "q4", 0.05],
  ["qwen3", undefined, 0],
  ["mistral", undefined, 0],
  ["phi3", undefined, 0],
  ["gpt2", undefined, 0],
  ["llama-legacy", undefined, 0]
]

const GREEDY = { temperature: 0, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1 }
const SETTINGS = { intraOpThreads: 1 }

/** The prefix of the reference a comparison can trust: up to the first step whose top-2 logit gap is below `margin`. */
const trusted = (ref: Reference, margin: number): number => {
  const at = ref.margins.findIndex((m) => m < margin)
  return at < 0 ? ref.tokens.length : Math.min(at, ref.tokens.length)
}

describe.each(CASES)("Optimum export %s (variant %s) against its reference", (name, variant, margin) => {
  const base = references.models[name]!
  const own = variant ? base.variant_references?.[variant] : undefined
  const entry: ExportEntry = own ? { ...base, references: base.references.map((ref, i) => ({ ...ref, ...own[i]!, text: "" })) } : base
  const dir = join(exportsDir(), name)
  let session: DecoderSession
  let generator: LocalGenerator

  beforeAll(async () => {
    const model = readModelDir(dir, "model", "test", variant === undefined ? undefined : { variant, field: "variant" })
    session = await DecoderSession.open(model, SETTINGS)
    generator = await LocalGenerator.load(dir, SETTINGS, variant)
  })
  afterAll(async () => {
    await session?.close()
    await generator?.close()
  })

  it("reads the layout from the graph: KV dtype, heads, head size, optional inputs", () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, number>
    const { layout } = session
    expect(layout.layers).toBe(config.num_hidden_layers ?? config.n_layer)
    expect(layout.kvHeads).toBe(config.num_key_value_heads ?? config.n_head)
    expect(layout.kvType).toBe(variant === "fp16" ? "float16" : "float32")
    expect(layout.logitsType).toBe(variant === "fp16" ? "float16" : "float32")
    expect(layout.vocab).toBe(config.vocab_size)
    expect(layout.hasCacheBranch).toBe(name === "llama-legacy")
    expect(layout.hasPositionIds).toBe(session.session.inputNames.includes("position_ids"))
  })

  it("renders the chat template (system prompts, bos) to the same ids as transformers", async () => {
    for (const ref of entry.references) expect(await generator.encodeChat(ref.messages)).toEqual(ref.prompt_ids)
  })

  it.skipIf(variant === "quantized").each([["in order", false], ["in reverse order", true]])("decodes greedily token for token as its reference, all prompts in one left-padded batch (%s)", async (_, reverse) => {
    const refs = reverse ? [...entry.references].reverse() : entry.references
    const samples = await generateBatch(session, {
      groups: refs.map((ref, i) => ({ ids: ref.prompt_ids, seeds: [sampleSeed({ seed: 0, round: 0, promptId: String(i), sampleIndex: 0 })] })),
      params: { ...GREEDY, max_new_tokens: entry.max_new_tokens },
      eos: new Set(entry.eos_token_id),
      padId: entry.pad_token_id
    })
    expect(samples).toHaveLength(refs.length)
    let compared = 0
    refs.forEach((ref, i) => {
      const n = trusted(ref, margin)
      expect(samples[i]!.tokens.slice(0, n)).toEqual(ref.tokens.slice(0, n))
      if (n === ref.tokens.length) expect(samples[i]!.finish).toBe(ref.finish)
      compared += n
    })
    const all = entry.references.reduce((n, ref) => n + ref.tokens.length, 0)
    if (margin > 0) expect(compared).toBeGreaterThanOrEqual(12)
    else expect(compared).toBe(all)
  })

  it.skipIf(variant === "quantized")("gives the same greedy tokens when the padded prompts are prefilled 5 tokens at a time", async () => {
    const refs = entry.references
    const samples = await generateBatch(session, {
      groups: refs.map((ref) => ({ ids: ref.prompt_ids, seeds: [[5, 6, 7, 8]] })),
      params: { ...GREEDY, max_new_tokens: 8 },
      eos: new Set(entry.eos_token_id),
      padId: entry.pad_token_id,
      maxPrefillLogits: 5 * refs.length * session.layout.vocab
    })
    refs.forEach((ref, i) => {
      const n = Math.min(8, trusted(ref, margin))
      expect(samples[i]!.tokens.slice(0, n)).toEqual(ref.tokens.slice(0, n))
    })
  })

  it("draws the reference's first token from an unpadded single-prompt prefill", async () => {
    for (const ref of entry.references) {
      const [sample] = await generateBatch(session, {
        groups: [{ ids: ref.prompt_ids, seeds: [[1, 2, 3, 4]] }],
        params: { ...GREEDY, max_new_tokens: 1 },
        eos: new Set(entry.eos_token_id),
        padId: entry.pad_token_id
      })
      if (ref.margins[0]! >= margin) expect(sample!.tokens[0]).toBe(ref.tokens[0])
    }
  })

  it("generates the reference texts from chat messages, Chinese without broken UTF-8", async () => {
    const out = await generator.generate(
      entry.references.map((ref, i) => ({ messages: ref.messages, seeds: [sampleSeed({ seed: 1, round: 0, promptId: String(i), sampleIndex: 0 })] })),
      { ...GREEDY, max_new_tokens: entry.max_new_tokens }
    )
    out.forEach((sample, i) => {
      const ref = entry.references[i]!
      if (trusted(ref, margin) === ref.tokens.length && !own) {
        expect(sample.text).toBe(ref.text)
        expect(sample.tokenCount).toBe(ref.tokens.length)
      }
      if (!own && !ref.text.includes("\uFFFD")) expect(sample.text).not.toContain("\uFFFD")
      expect(sample.logprobs).toHaveLength(sample.tokenCount)
      expect(sample.entropies.every((h) => h >= 0 && Number.isFinite(h))).toBe(true)
    })
    expect(out.some((s) => /\p{Script=Han}/u.test(s.text))).toBe(true)
  })
})

describe("export fixture layout", () => {
  it("holds fp16 and quantized variants, chunked external data, a legacy merged decoder and a chat_template.jinja", () => {
    expect(references.models.qwen2!.files).toEqual(["model.onnx", "model_fp16.onnx", "model_q4.onnx", "model_quantized.onnx"])
    expect(references.models.qwen3!.files).toEqual(expect.arrayContaining(["model.onnx_data", "model.onnx_data_1"]))
    expect(references.models["llama-legacy"]!.files).toEqual(["decoder_model_merged.onnx"])
    expect(readModelDir(join(exportsDir(), "qwen3"), "model", "test").chatTemplate).toContain("<|im_start|>")
    expect(Object.keys(references.models).sort()).toEqual(["gpt2", "llama", "llama-legacy", "mistral", "phi3", "qwen2", "qwen3"])
  })

  it("reads eos and pad ids as lists from generation_config.json", () => {
    const model = readModelDir(join(exportsDir(), "llama"), "model", "test")
    expect(model.generationConfig.eos_token_id).toEqual(references.models.llama!.eos_token_id)
    expect(TextTokenizer.load(model).special("eos_token")).toBe("<|im_end|>")
  })
})

describe("stop strings and eos lists on a real export", () => {
  const dir = join(exportsDir(), "llama")
  const entry = references.models.llama!
  let generator: LocalGenerator
  beforeAll(async () => {
    generator = await LocalGenerator.load(dir, SETTINGS)
  })
  afterAll(async () => generator?.close())

  it("ends a sample at any eos id listed in generation_config.json", async () => {
    const ref = entry.references.find((r) => r.finish === "eos")!
    expect(entry.eos_token_id.length).toBeGreaterThan(2)
    const [sample] = await generator.generate([{ messages: ref.messages, seeds: [[1, 2, 3, 4]] }], { ...GREEDY, max_new_tokens: entry.max_new_tokens })
    expect(sample).toMatchObject({ finish: "eos", tokenCount: ref.tokens.length, text: ref.text })
  })

  it("cuts the text before the earliest stop string and reports finish stop", async () => {
    const ref = entry.references.find((r) => r.finish === "length" && r.text.length > 12)!
    const stop = ref.text.slice(6, 9)
    const [sample] = await generator.generate(
      [{ messages: ref.messages, seeds: [[1, 2, 3, 4]] }],
      { ...GREEDY, max_new_tokens: entry.max_new_tokens, stop: ["never-in-this-text", stop] }
    )
    expect(sample!.finish).toBe("stop")
    expect(sample!.text).toBe(ref.text.slice(0, ref.text.indexOf(stop)))
    expect(sample!.tokenCount).toBeLessThan(ref.tokens.length)
  })
})
