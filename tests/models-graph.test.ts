import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  buildDecoder,
  buildTinyChatModel,
  type DecoderInfo,
  type DecoderOptions,
  decoderFiles,
  readCorpus
} from "./fixtures/index.js"
import { GraphBuilder, int } from "./fixtures/onnx/graph.js"
import { float16Bits } from "./fixtures/onnx/tensors.js"
import {
  type DecoderResult,
  hasNonFinite,
  leftPad,
  logitsAt,
  maxAbsDiff,
  openSession,
  runDecoder
} from "./fixtures/onnxTestKit.js"

const TOLERANCE = 1e-4
const PROMPT_A = [17, 250, 903, 44, 1201, 8, 612, 77]
const PROMPT_B = [300, 5, 990]

let root: string
const built = new Map<string, { info: DecoderInfo; session: ort.InferenceSession; dir: string }>()

const decoder = async (name: string, options: DecoderOptions) => {
  const hit = built.get(name)
  if (hit) return hit
  const dir = join(root, name)
  const info = buildDecoder(dir, options)
  const entry = { info, dir, session: await openSession(join(dir, "onnx", "model.onnx")) }
  built.set(name, entry)
  return entry
}

const ones = (n: number) => Array<number>(n).fill(1)

/** Full forward without cache vs prefill of `split` tokens then one token per step. */
const expectCachedEqualsFull = async (session: ort.InferenceSession, ids: number[], split: number) => {
  const full = await runDecoder(session, { ids: [ids], mask: [ones(ids.length)] })
  let step = await runDecoder(session, { ids: [ids.slice(0, split)], mask: [ones(split)] })
  for (let s = 0; s < split; s++) expect(maxAbsDiff(logitsAt(step, 0, s), logitsAt(full, 0, s))).toBeLessThan(TOLERANCE)
  for (let t = split; t < ids.length; t++) {
    step = await runDecoder(session, { ids: [[ids[t]]], mask: [ones(t + 1)], positions: [[t]], past: step.cache })
    expect(maxAbsDiff(logitsAt(step, 0, 0), logitsAt(full, 0, t))).toBeLessThan(TOLERANCE)
  }
}

/** A left-padded two-row batch (prefill, then two decode steps) vs each row alone. */
const expectPaddedEqualsAlone = async (session: ort.InferenceSession, padId: number) => {
  const rows = [PROMPT_A, PROMPT_B]
  const next = [[11, 12], [21, 22]]
  const { ids, mask } = leftPad(rows, padId)
  let batch = await runDecoder(session, { ids, mask })
  expect(hasNonFinite(batch.logits)).toBe(false)
  for (const t of Object.values(batch.cache)) expect(hasNonFinite(t.data as Float32Array)).toBe(false)
  const width = ids[0].length
  const batchSteps: DecoderResult[] = []
  let batchMask = mask
  for (let k = 0; k < 2; k++) {
    batchMask = batchMask.map((m) => [...m, 1])
    batch = await runDecoder(session, { ids: next.map((n) => [n[k]]), mask: batchMask, past: batch.cache })
    batchSteps.push(batch)
  }
  const padded = await runDecoder(session, { ids, mask })
  for (let r = 0; r < rows.length; r++) {
    let alone = await runDecoder(session, { ids: [rows[r]], mask: [ones(rows[r].length)] })
    const offset = width - rows[r].length
    for (let s = 0; s < rows[r].length; s++) {
      expect(maxAbsDiff(logitsAt(padded, r, offset + s), logitsAt(alone, 0, s))).toBeLessThan(TOLERANCE)
    }
    for (let k = 0; k < 2; k++) {
      const length = rows[r].length + k + 1
      alone = await runDecoder(session, { ids: [[next[r][k]]], mask: [ones(length)], past: alone.cache })
      expect(maxAbsDiff(logitsAt(batchSteps[k], r, 0), logitsAt(alone, 0, 0))).toBeLessThan(TOLERANCE)
    }
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "winnow-decoder-"))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe("onnx encoder", () => {
  it("writes float16 initializers, scalar inputs and external data that ONNX Runtime reads", async () => {
    const g = new GraphBuilder("encoder_check")
    const x = g.input("x", "float32", ["n", 3])
    const scale = g.input("scale", "float32", [])
    const w = g.weight("w", "float16", [3], [1.5, -2, 0.000123])
    const big = g.weight("big", "float32", [3, 300], Float32Array.from({ length: 900 }, (_, i) => i / 7))
    const summed = g.op("ReduceSum", [big, g.int64s([1])], { keepdims: int(0) })
    const y = g.op("Mul", [g.op("Add", [x, g.cast(w, "float32")]), scale])
    g.op("Add", [y, summed], {}, "y")
    g.output("y", "float32", ["n", 3])
    const files = g.toModel({ externalData: { location: "check.onnx_data" } })
    expect(files.data?.length).toBe(3600)
    writeFileSync(join(root, "check.onnx"), files.model)
    writeFileSync(join(root, "check.onnx_data"), files.data!)
    const session = await openSession(join(root, "check.onnx"))
    expect(session.inputMetadata).toEqual([
      { name: "x", isTensor: true, type: "float32", shape: ["n", 3] },
      { name: "scale", isTensor: true, type: "float32", shape: [] }
    ])
    const out = await session.run({
      x: new ort.Tensor("float32", Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]),
      scale: new ort.Tensor("float32", Float32Array.of(2), [])
    })
    const rowSum = (r: number) => Array.from({ length: 300 }, (_, i) => Math.fround((r * 300 + i) / 7)).reduce((a, b) => a + b)
    const half = [1.5, -2, 0.0001230239868164]
    const expected = [1, 2, 3, 4, 5, 6].map((v, i) => (v + half[i % 3]) * 2 + rowSum(i % 3))
    expect(maxAbsDiff(out.y.data as Float32Array, expected)).toBeLessThan(1e-2)
  })

  it("rounds float16 to nearest even, including subnormals and overflow", () => {
    expect(float16Bits(1)).toBe(0x3c00)
    expect(float16Bits(-2)).toBe(0xc000)
    expect(float16Bits(65504)).toBe(0x7bff)
    expect(float16Bits(1e6)).toBe(0x7c00)
    expect(float16Bits(2 ** -24)).toBe(0x0001)
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00)
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02)
  })
})

describe("tiny decoder", () => {
  it("declares Optimum-style inputs and outputs", async () => {
    const { session, info } = await decoder("base", {})
    const kv = ["batch_size", info.shape.kvHeads, "past_sequence_length", info.headDim]
    expect(session.inputMetadata.map((m) => [m.name, m.isTensor && m.type, m.isTensor && m.shape])).toEqual([
      ["input_ids", "int64", ["batch_size", "sequence_length"]],
      ["attention_mask", "int64", ["batch_size", "total_sequence_length"]],
      ["position_ids", "int64", ["batch_size", "sequence_length"]],
      ...Array.from({ length: info.shape.layers }, (_, i) => [
        [`past_key_values.${i}.key`, "float32", kv],
        [`past_key_values.${i}.value`, "float32", kv]
      ]).flat()
    ])
    expect(session.outputNames).toEqual(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"])
  })

  it("returns logits [batch, seq, vocab] and presents [batch, kv_heads, total, head_dim]", async () => {
    const { session, info } = await decoder("base", {})
    const { ids, mask } = leftPad([PROMPT_A, PROMPT_B], info.padTokenId)
    const r = await runDecoder(session, { ids, mask })
    expect(r.dims).toEqual([2, PROMPT_A.length, info.vocabSize])
    expect(r.cache["past_key_values.1.value"].dims).toEqual([2, info.shape.kvHeads, PROMPT_A.length, info.headDim])
    expect(hasNonFinite(r.logits)).toBe(false)
  })

  it("gives the same logits step by step with a KV cache as in one full pass", async () => {
    const { session } = await decoder("base", {})
    await expectCachedEqualsFull(session, PROMPT_A, 3)
  })

  it("gives a left-padded batch the logits of each prompt alone, through prefill and decode", async () => {
    const { session, info } = await decoder("base", {})
    await expectPaddedEqualsAlone(session, info.padTokenId)
  })

  it("makes position ids matter", async () => {
    const { session } = await decoder("base", {})
    const mask = [ones(PROMPT_B.length)]
    const a = await runDecoder(session, { ids: [PROMPT_B], mask })
    const b = await runDecoder(session, { ids: [PROMPT_B], mask, positions: [[5, 6, 7]] })
    expect(maxAbsDiff(a.logits, b.logits)).toBeGreaterThan(0.01)
  })

  it("supports one KV head and as many KV heads as heads", async () => {
    for (const kvHeads of [1, 4]) {
      const { session } = await decoder(`kv${kvHeads}`, { kvHeads, seed: 5 })
      await expectCachedEqualsFull(session, PROMPT_A, 2)
      await expectPaddedEqualsAlone(session, 0)
    }
  })

  it("derives positions from the mask when built with positionIds: false", async () => {
    const { session, info } = await decoder("noPositions", { positionIds: false })
    expect(session.inputNames).not.toContain("position_ids")
    await expectCachedEqualsFull(session, PROMPT_A, 4)
    await expectPaddedEqualsAlone(session, info.padTokenId)
    const withIds = await decoder("base", {})
    const { ids, mask } = leftPad([PROMPT_A, PROMPT_B], info.padTokenId)
    const derived = await runDecoder(session, { ids, mask })
    const given = await runDecoder(withIds.session, { ids, mask })
    const offset = PROMPT_A.length - PROMPT_B.length
    for (let s = 0; s < PROMPT_B.length; s++) {
      expect(maxAbsDiff(logitsAt(derived, 1, offset + s), logitsAt(given, 1, offset + s))).toBeLessThan(TOLERANCE)
    }
  })

  it("reads weights from onnx/model.onnx_data when built with externalData: true", async () => {
    const { session, dir, info } = await decoder("external", { externalData: true })
    expect(statSync(join(dir, "onnx", "model.onnx")).size).toBeLessThan(64 * 1024)
    expect(statSync(join(dir, "onnx", "model.onnx_data")).size).toBeGreaterThan(100 * 1024)
    await expectCachedEqualsFull(session, PROMPT_A, 3)
    await expectPaddedEqualsAlone(session, info.padTokenId)
    const inline = await decoder("base", {})
    const mask = [ones(PROMPT_A.length)]
    const a = await runDecoder(session, { ids: [PROMPT_A], mask })
    const b = await runDecoder(inline.session, { ids: [PROMPT_A], mask })
    expect(maxAbsDiff(a.logits, b.logits)).toBe(0)
  })

  it("removes a stale model.onnx_data when rebuilt with inline weights", async () => {
    const dir = join(root, "rebuild")
    buildDecoder(dir, { externalData: true })
    buildDecoder(dir, {})
    expect(existsSync(join(dir, "onnx", "model.onnx_data"))).toBe(false)
  })

  it("keeps only the last logits asked for by num_logits_to_keep (0 keeps all)", async () => {
    const { session } = await decoder("keep", { numLogitsToKeep: true, eosBiasRamp: 0.1 })
    expect(session.inputMetadata.at(-1)).toEqual({ name: "num_logits_to_keep", isTensor: true, type: "int64", shape: [] })
    const mask = [ones(PROMPT_A.length)]
    const all = await runDecoder(session, { ids: [PROMPT_A], mask, keep: 0 })
    const last = await runDecoder(session, { ids: [PROMPT_A], mask, keep: 1 })
    expect(all.dims[1]).toBe(PROMPT_A.length)
    expect(last.dims[1]).toBe(1)
    expect(maxAbsDiff(logitsAt(last, 0, 0), logitsAt(all, 0, PROMPT_A.length - 1))).toBeLessThan(TOLERANCE)
  })

  it("adds eosBias + eosBiasRamp × position to the EOS logit only", async () => {
    const plain = await decoder("base", {})
    const { session, info } = await decoder("ramp", { eosBias: -3, eosBiasRamp: 0.25 })
    const mask = [ones(PROMPT_A.length)]
    const a = await runDecoder(plain.session, { ids: [PROMPT_A], mask })
    const b = await runDecoder(session, { ids: [PROMPT_A], mask })
    for (let s = 0; s < PROMPT_A.length; s++) {
      const x = logitsAt(a, 0, s)
      const y = logitsAt(b, 0, s)
      expect(y[info.eosTokenId] - x[info.eosTokenId]).toBeCloseTo(-3 + 0.25 * s, 4)
      y[info.eosTokenId] = x[info.eosTokenId]
      expect(maxAbsDiff(x, y)).toBe(0)
    }
  })

  it("builds the same bytes twice", () => {
    const options = { unigramBias: true, eosBiasRamp: 0.1, externalData: true }
    const a = decoderFiles(options)
    const b = decoderFiles(options)
    expect(Object.keys(a)).toEqual(Object.keys(b))
    for (const k of Object.keys(a)) expect(Buffer.from(a[k]).equals(Buffer.from(b[k]))).toBe(true)
  })

  it("makes the tiny chat model emit corpus tokens and end after a few dozen positions", async () => {
    const dir = join(root, "tinyChat")
    const info = buildTinyChatModel(dir)
    const session = await openSession(join(dir, "onnx", "model.onnx"))
    const seen = new Set(info.tokenizer.encoder.encode(readCorpus()))
    const prompt = info.tokenizer.encoder.encode("<|im_start|>user\n你好，请介绍一下你自己。<|im_end|>\n<|im_start|>assistant\n")
    const probabilities = (logits: Float32Array) => {
      const max = Math.max(...logits)
      const exp = Array.from(logits, (l) => Math.exp(l - max))
      const sum = exp.reduce((a, b) => a + b)
      return exp.map((e) => e / sum)
    }
    const early = await runDecoder(session, { ids: [prompt], mask: [ones(prompt.length)] })
    const p = probabilities(logitsAt(early, 0, prompt.length - 1))
    expect(p.reduce((acc, v, id) => acc + (seen.has(id) ? v : 0), 0)).toBeGreaterThan(0.9)
    expect(p[info.eosTokenId]).toBeLessThan(0.01)
    const late = await runDecoder(session, { ids: [[prompt.at(-1)!]], mask: [[1]], positions: [[150]] })
    expect(probabilities(logitsAt(late, 0, 0))[info.eosTokenId]).toBeGreaterThan(0.5)
  })
})
