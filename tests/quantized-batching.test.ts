import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureQuantizedOnnx } from "../bench/generate/llamaCpp.js"
import { promptSeeds } from "../core/seeds.js"
import { LocalGenerator } from "../models/localGenerator.js"
import { buildDecoder, type DecoderInfo, TINY_CHAT_OPTIONS } from "./fixtures/index.js"

/**
 * Quantized exports keep the generator's contract (the same spec gives the same records) whatever
 * else shares a batch. ONNX Runtime's dynamic int8 (`model_quantized`) quantizes each MatMul input
 * with one scale over the whole tensor, so one row's logits move with the other rows: the
 * generator gives such models one prompt per batch. MatMulNBits (`model_q8`, `model_q4`) quantize
 * activations per row and need nothing.
 */
let dir: string
let info: DecoderInfo

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "winnow-quantized-"))
  info = buildDecoder(dir, { ...TINY_CHAT_OPTIONS, hidden: 128, intermediate: 256 })
  await ensureQuantizedOnnx(dir, () => {})
}, 600_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const text = "春天来了，花开了。The spring has come and the flowers are open; 我们一起去公园散步吧。"

/** Last-position logits of row 0 when run alone and when run beside `other` (same length, one batch). */
const rowLogits = async (variant: string, row: number[], other: number[]): Promise<{ alone: Float32Array; together: Float32Array }> => {
  const session = await ort.InferenceSession.create(join(dir, "onnx", `model${variant === "" ? "" : `_${variant}`}.onnx`), { intraOpNumThreads: 1 })
  const run = async (rows: number[][]) => {
    const [b, s] = [rows.length, rows[0]!.length]
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [b, s]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(b * s).fill(1n), [b, s]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from(rows.flatMap((r) => r.map((_, i) => BigInt(i)))), [b, s])
    }
    for (let l = 0; l < info.shape.layers; l++) {
      for (const kind of ["key", "value"]) feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [b, info.shape.kvHeads, 0, info.headDim])
    }
    const logits = (await session.run(feeds, ["logits"])).logits!
    return (logits.data as Float32Array).slice((s - 1) * info.vocabSize, s * info.vocabSize)
  }
  const alone = await run([row])
  const together = await run([row, other])
  await session.release()
  return { alone, together }
}

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0)

describe("quantized models and batch composition", () => {
  it("dynamic int8 couples the rows of a batch; MatMulNBits and float32 do not", async () => {
    const ids = info.tokenizer.encoder.encode(text)
    const row = ids.slice(0, 16)
    const loud = ids.slice(8, 24).reverse()
    const coupled = await rowLogits("quantized", row, loud)
    expect(maxDifference(coupled.alone, coupled.together)).toBeGreaterThan(1e-3)
    for (const variant of ["q8", "q4", ""]) {
      const { alone, together } = await rowLogits(variant, row, loud)
      expect(maxDifference(alone, together), variant).toBeLessThan(1e-4)
    }
  })

  it("gives a prompt of a dynamic int8 model the same samples alone and beside other prompts", async () => {
    const ids = info.tokenizer.encoder.encode(text)
    const [a, b, c] = [ids.slice(0, 20), ids.slice(5, 30), ids.slice(2, 12)]
    const seeds = (id: string) => promptSeeds(7, 0, id, 4)
    const params = { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 48, ignore_eos: true }
    for (const variant of ["quantized", "q8", "q4", undefined]) {
      const generator = await LocalGenerator.load(dir, { intraOpThreads: 1 }, variant)
      try {
        expect(generator.rowsCoupled, variant).toBe(variant === "quantized")
        if (variant !== "quantized") continue
        const alone = await generator.generateIds([a], [seeds("a")], params)
        const mixed = (await generator.generateIds([b, a, c], [seeds("b"), seeds("a"), seeds("c")], params)).filter((s) => s.prompt === 1)
        expect(mixed.map((s) => [s.tokens, s.logprobs])).toEqual(alone.map((s) => [s.tokens, s.logprobs]))
      } finally {
        await generator.close()
      }
    }
  }, 120_000)
})
