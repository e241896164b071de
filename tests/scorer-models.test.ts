import { cpSync, renameSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CampaignSpec, decodeSpec, type ScorerSpec } from "../campaign/spec.js"
import { CausalLmScorer } from "../models/causalLmScorer.js"
import { InferencePool, poolWithThreads } from "../models/inferencePool.js"
import { LocalGenerator } from "../models/localGenerator.js"
import { softmax } from "../scorers/classifier.js"
import type { ScoreInput } from "../scorers/contract.js"
import { buildScorer } from "../scorers/registry.js"
import { buildTinyChatModel, buildTokenizer, cjkTokenIds } from "./fixtures/index.js"
import {
  decoderClassifierFiles, encoderClassifierFiles, encoderLogits, judgeFiles, writeScoringModel
} from "./fixtures/models/scoringModels.js"
import { tempDir } from "./support/harness.js"

const tokenizer = buildTokenizer()
const cjk = cjkTokenIds(tokenizer)
const tokens = (text: string) => tokenizer.encoder.encode(text)
const cjkCount = (text: string) => tokens(text).filter((id) => cjk.has(id)).length
const cjkShare = (text: string) => cjkCount(text) / Math.max(1, tokens(text).length)

const ZH = "今天天气很好，我们一起去公园散步吧。"
const EN = "The weather is nice today."
const MIXED = "我喜欢 tea 和 coffee。"

const input = (response: string, group = 0, prompt = "你好吗？"): ScoreInput => ({
  prompt, messages: [{ role: "user", content: prompt }], response, group
})

/** Decodes one scorer entry through the real spec schema, so defaults are the ones users get. */
const scorerSpec = (fields: Record<string, unknown>): ScorerSpec =>
  Result.getOrThrow(decodeSpec({ name: "t", prompts: "p", generator: { model: "m" }, scorers: [fields], output: { dataset: "d" } }, "t")).scorers[0] as CampaignSpec["scorers"][number]

let root: string
let runtime: ManagedRuntime.ManagedRuntime<InferencePool, never>
let dirs: { encoder: string; decoder: string; chat: string; judgeDiff: string; judgeBiased: string; judgeRatings: string }
const settings = { intraOpThreads: 1 }

const score = (fields: Record<string, unknown>, batch: readonly ScoreInput[]) =>
  runtime.runPromise(Effect.gen(function* () {
    const pool = yield* InferencePool
    return yield* buildScorer(scorerSpec(fields), pool, "scorers[0]").score(batch)
  }))

const failure = (fields: Record<string, unknown>, batch: readonly ScoreInput[]) =>
  runtime.runPromise(Effect.gen(function* () {
    const pool = yield* InferencePool
    return yield* Effect.flip(buildScorer(scorerSpec(fields), pool, "scorers[0]").score(batch))
  }))

beforeAll(() => {
  root = tempDir("scorer-models")
  buildTinyChatModel(join(root, "chat"))
  dirs = {
    encoder: writeScoringModel(join(root, "encoder"), encoderClassifierFiles()),
    decoder: writeScoringModel(join(root, "decoder"), decoderClassifierFiles()),
    chat: join(root, "chat"),
    judgeDiff: writeScoringModel(join(root, "judge-diff"), judgeFiles({ diff: { A: 1, B: -1 } })),
    judgeBiased: writeScoringModel(join(root, "judge-biased"), judgeFiles({ bias: { A: 5 }, diff: { B: 0 } })),
    judgeRatings: writeScoringModel(join(root, "judge-ratings"), judgeFiles({ bias: { "1": 0, "2": 1, "3": 2, "4": 0, "5": -1 } }))
  }
  runtime = ManagedRuntime.make(InferencePool.layer(poolWithThreads(1, undefined, 1)) as Layer.Layer<InferencePool>)
})

afterAll(async () => {
  await runtime?.dispose()
})

describe("ONNX classifier scorer", () => {
  it("feeds an encoder text pairs with segment ids and maps ordinal labels to an expected score", async () => {
    expect(cjkShare(ZH)).toBeGreaterThan(0.5)
    expect(cjkShare(EN)).toBe(0)
    const batch = [input(ZH), input(EN), input(MIXED)]
    const values = { low: 0, mid: 0.5, high: 1 }
    const out = await score({ name: "grade", type: "classifier", model: dirs.encoder, label_scores: values }, batch)
    const expected = batch.map((s) => softmax(encoderLogits(cjkShare(s.response))).reduce((sum, p, i) => sum + p * [0, 0.5, 1][i]!, 0))
    out.values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5))
    expect(out.values[0]).toBeGreaterThan(out.values[2]!)
    expect(out.values[2]).toBeGreaterThan(out.values[1]!)
    expect(out.truncated).toEqual([false, false, false])
    const high = await score({ name: "grade", type: "classifier", model: dirs.encoder, label: "high" }, batch)
    high.values.forEach((v, i) => expect(v).toBeCloseTo(softmax(encoderLogits(cjkShare(batch[i]!.response)))[2]!, 5))
  })

  it("cuts over-long inputs on the declared side, keeping the special tokens, and reports it", async () => {
    const prompt = "hi"
    const long = `${EN} ${ZH}`
    const maxLength = tokens(prompt).length + 2 + 3 + 1
    // [open] prompt [close] response [close]: right keeps the prompt, its close and 3 response
    // tokens; left keeps the last maxLength − 2 response tokens; both keep the outer specials.
    const kept = (side: "right" | "left") => {
      const ids = tokens(long)
      return side === "right" ? ids.slice(0, 3) : ids.slice(ids.length - (maxLength - 2))
    }
    const share = (ids: number[]) => ids.filter((id) => cjk.has(id)).length / ids.length
    for (const side of ["right", "left"] as const) {
      const out = await score({ name: "g", type: "classifier", model: dirs.encoder, label_scores: { low: 0, mid: 0.5, high: 1 }, max_length: maxLength, truncation: side }, [input(long, 0, prompt)])
      expect(out.truncated).toEqual([true])
      const p = softmax(encoderLogits(share(kept(side))))
      expect(out.values[0]).toBeCloseTo(p[1]! * 0.5 + p[2]!, 5)
    }
    const refused = await failure({ name: "g", type: "classifier", model: dirs.encoder, max_length: maxLength, truncation: "error" }, [input(long, 0, prompt)])
    expect(refused.message).toContain("scorers[0].max_length")
  })

  it("reads a decoder export at its last non-pad token, whatever the padding in the batch", async () => {
    const texts = ["你好", "The weather is nice today, and we will go to the park.", "我喜欢喝茶"]
    const out = await score({ name: "rm", type: "classifier", model: dirs.decoder, template: "{response}" }, texts.map((t) => input(t)))
    out.values.forEach((v, i) => expect(v).toBeCloseTo(tokens(texts[i]!).at(-1)! / tokenizer.vocabSize, 6))
    const cut = await score({ name: "rm", type: "classifier", model: dirs.decoder, template: "{response}", max_length: 8, truncation: "right" }, [input(texts[1]!)])
    expect(cut.values[0]).toBeCloseTo(tokens(texts[1]!)[7]! / tokenizer.vocabSize, 6)
    const left = await score({ name: "rm", type: "classifier", model: dirs.decoder, template: "{response}", max_length: 8, truncation: "left" }, [input(texts[1]!)])
    expect(left.values[0]).toBeCloseTo(tokens(texts[1]!).at(-1)! / tokenizer.vocabSize, 6)
    const chat = await score({ name: "rm", type: "classifier", model: dirs.decoder }, [input("你好", 0, "Hi")])
    const rendered = tokens("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n你好<|im_end|>\n")
    expect(chat.values[0]).toBeCloseTo(rendered.at(-1)! / tokenizer.vocabSize, 6)
  })

  it("loads the ONNX file its variant names, and names the variant field when that file is missing", async () => {
    const dir = join(tempDir("classifier-variant"), "only-alt")
    cpSync(dirs.encoder, dir, { recursive: true })
    renameSync(join(dir, "onnx/model.onnx"), join(dir, "onnx/model_alt.onnx"))
    const batch = [input(ZH), input(EN)]
    const fields = { name: "grade", type: "classifier", label_scores: { low: 0, mid: 0.5, high: 1 } }
    const original = await score({ ...fields, model: dirs.encoder }, batch)
    expect((await score({ ...fields, model: dir, variant: "alt" }, batch)).values).toEqual(original.values)
    const missing = await failure({ ...fields, model: dir, variant: "q4" }, batch)
    expect(missing.message).toContain('scorers[0].variant: got "q4", expected one of the ONNX variants in')
    expect(missing.message).toContain('"alt"')
    expect((await failure({ ...fields, model: dir }, batch)).message).toContain("scorers[0].model")
  })

  it("names the field when the declared labels do not fit the model", async () => {
    const bad = await failure({ name: "g", type: "classifier", model: dirs.encoder, label_scores: { low: 0, high: 1 } }, [input(ZH)])
    expect(bad.message).toContain("scorers[0].label_scores")
    expect(bad.message).toContain("missing mid")
    const label = await failure({ name: "g", type: "classifier", model: dirs.encoder, label: "great" }, [input(ZH)])
    expect(label.message).toContain("scorers[0].label")
  })
})

describe("language-model statistics", () => {
  it("gives the same NLL and entropy whether a long text is fed in one pass or in chunks", async () => {
    const lm = await CausalLmScorer.load(dirs.chat, "m", settings)
    const items = [ZH, EN, MIXED, `${ZH}${EN}${ZH}`].map((response) => ({ messages: [{ role: "user" as const, content: "你好" }], response }))
    const whole = await lm.responseStats(items, { maxLength: 4096, batchSize: 4 })
    const chunked = await lm.responseStats(items, { maxLength: 4096, batchSize: 3, chunk: 5 })
    whole.forEach((row, i) => {
      expect(row.tokens).toBeGreaterThan(3)
      expect(chunked[i]!.nll).toBeCloseTo(row.nll, 4)
      expect(chunked[i]!.entropy).toBeCloseTo(row.entropy, 4)
    })
    const short = await lm.responseStats(items.slice(3), { maxLength: 12, batchSize: 1 })
    expect(short[0]).toMatchObject({ truncated: true, tokens: 11 })
    await lm.close()
  })

  it("agrees with the log-probs the generator recorded while sampling", async () => {
    const generator = await LocalGenerator.load(dirs.chat, settings)
    const messages = [{ role: "user" as const, content: "用一句话介绍一下你自己。" }]
    const seeds = Array.from({ length: 6 }, (_, i) => [1, 2, 3, i] as const)
    const samples = await generator.generate([{ messages, seeds }], { temperature: 1, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 12 })
    await generator.close()
    const lm = await CausalLmScorer.load(dirs.chat, "m", settings)
    const stats = await lm.responseStats(samples.map((s) => ({ messages, response: s.text })), { maxLength: 4096, batchSize: 6 })
    await lm.close()
    const canonical = samples.map((s, i) => ({ s, row: stats[i]! })).filter(({ s, row }) => s.finish === "length" && row.tokens === s.tokenCount)
    expect(canonical.length).toBeGreaterThanOrEqual(2)
    for (const { s, row } of canonical) {
      expect(row.nll).toBeCloseTo(-s.logprobs.reduce((a, b) => a + b, 0) / s.logprobs.length, 3)
      expect(row.entropy).toBeCloseTo(s.entropies.reduce((a, b) => a + b, 0) / s.entropies.length, 3)
    }
  })

  it("reads recorded log-probs for free, and runs a chosen model in the inference threads", async () => {
    const recorded = { ...input("x"), logprobs: [-1, -3], entropies: [0.5, 1.5] }
    expect((await score({ name: "nll", type: "lm_stats" }, [recorded])).values).toEqual([2])
    expect((await score({ name: "ppl", type: "lm_stats", metric: "perplexity" }, [recorded])).values[0]).toBeCloseTo(Math.exp(2), 9)
    expect((await score({ name: "h", type: "lm_stats", metric: "entropy" }, [recorded])).values).toEqual([1])
    expect(Number.isNaN((await score({ name: "nll", type: "lm_stats" }, [input("x")])).values[0])).toBe(true)
    const viaModel = await score({ name: "nll", type: "lm_stats", model: dirs.chat }, [input(ZH), input(EN)])
    viaModel.values.forEach((v) => expect(v).toBeGreaterThan(0))
  })
})

describe("LLM-as-judge", () => {
  it("pointwise: the expected rating from the rating tokens' probabilities", async () => {
    const out = await score({ name: "j", type: "judge", model: dirs.judgeRatings }, [input(ZH), input(EN)])
    const p = softmax([0, 1, 2, 0, -1])
    const expected = p.reduce((sum, q, i) => sum + q * (i + 1), 0)
    out.values.forEach((v) => expect(v).toBeCloseTo(expected, 5))
    const custom = await score({ name: "j", type: "judge", model: dirs.judgeRatings, ratings: ["1", "3", "5"], rating_values: [0, 0.5, 1] }, [input(ZH)])
    const q = softmax([0, 2, -1])
    expect(custom.values[0]).toBeCloseTo(q[1]! * 0.5 + q[2]!, 5)
  })

  it("pairwise: consistent verdicts in both orders decide, the score is the win rate", async () => {
    const group = [input(ZH), input(MIXED), input(EN)]
    expect(cjkCount(ZH)).toBeGreaterThan(cjkCount(MIXED))
    expect(cjkCount(MIXED)).toBeGreaterThan(cjkCount(EN))
    const rubric = "{response_a}<|im_end|>{response_b}"
    const out = await score({ name: "j", type: "judge", mode: "pairwise", model: dirs.judgeDiff, rubric }, [...group, input(EN, 1), input(ZH, 1), input(ZH, 2)])
    expect(out.values).toEqual([1, 0.5, 0, 0, 1, 0.5])
  })

  it("pairwise: a verdict that flips when the order is swapped counts as a tie", async () => {
    const rubric = "{response_a}<|im_end|>{response_b}"
    const out = await score({ name: "j", type: "judge", mode: "pairwise", model: dirs.judgeBiased, rubric }, [input(ZH), input(MIXED), input(EN)])
    expect(out.values).toEqual([0.5, 0.5, 0.5])
  })

  it("feeds long judge prompts in chunks with the same result", async () => {
    const lm = await CausalLmScorer.load(dirs.judgeDiff, "m", settings)
    const conversations = [[{ role: "user" as const, content: `${ZH}${ZH}<|im_end|>${MIXED}` }], [{ role: "user" as const, content: `${EN}<|im_end|>${ZH}` }]]
    const whole = await lm.optionProbs(conversations, ["A", "B"], { answerPrefix: "", maxLength: 4096, batchSize: 2, field: "f" })
    const chunked = await lm.optionProbs(conversations, ["A", "B"], { answerPrefix: "", maxLength: 4096, batchSize: 2, field: "f", chunk: 3 })
    expect(whole.probs[0]![0]).toBeGreaterThan(0.99)
    expect(whole.probs[1]![1]).toBeGreaterThan(0.99)
    chunked.probs.forEach((p, i) => p.forEach((x, j) => expect(x).toBeCloseTo(whole.probs[i]![j]!, 6)))
    await lm.close()
  })

  it("rejects ratings that are not single tokens, naming the field", async () => {
    const bad = await failure({ name: "j", type: "judge", model: dirs.judgeRatings, ratings: ["1", "非常好的回答"] }, [input(ZH)])
    expect(bad.message).toContain("scorers[0].ratings[1]")
  })
})
