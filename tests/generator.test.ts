import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DecoderSession } from "../models/decoderSession.js"
import { generateBatch, type GenerationRequest } from "../models/generate.js"
import { readModelDir } from "../models/modelDir.js"
import { sampleSeed } from "../core/seeds.js"
import { distributionStats } from "../models/sampling.js"
import { TextTokenizer } from "../models/tokenizer.js"
import { buildDecoder, TINY_CHAT_OPTIONS } from "./fixtures/index.js"
import { tempDir } from "./support/harness.js"

const VARIANTS = {
  "llama-style (position_ids, grouped KV heads)": {},
  "gpt2-style (positions from the mask)": { positionIds: false },
  "num_logits_to_keep input": { numLogitsToKeep: true },
  "external data file": { externalData: true }
} as const

const GREEDY = { temperature: 0, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 12 }
const SAMPLED = { temperature: 0.9, top_k: 40, top_p: 0.95, min_p: 0, repetition_penalty: 1.1, max_new_tokens: 16 }
const seeds = (id: string, n: number) => Array.from({ length: n }, (_, i) => sampleSeed({ seed: 7, round: 1, promptId: id, sampleIndex: i }))

describe.each(Object.entries(VARIANTS))("generator on a %s decoder", (_name, variant) => {
  let session: DecoderSession
  let tokenizer: TextTokenizer
  let short: number[]
  let long: number[]

  beforeAll(async () => {
    const dir = join(tempDir("decoder"), "model")
    buildDecoder(dir, { ...TINY_CHAT_OPTIONS, ...variant })
    const model = readModelDir(dir, "model", "test")
    session = await DecoderSession.open(model, { intraOpThreads: 1 })
    tokenizer = TextTokenizer.load(model)
    short = await tokenizer.encode(tokenizer.renderChat([{ role: "user", content: "你好" }]))
    long = await tokenizer.encode(tokenizer.renderChat([{ role: "system", content: "Be brief." }, { role: "user", content: "What is two plus three? 二加三等于几？" }]))
  })
  afterAll(async () => session?.close())

  const request = (groups: GenerationRequest["groups"], params: GenerationRequest["params"]): GenerationRequest =>
    ({ groups, params, eos: new Set<number>(), padId: 0 })

  it("decodes with the KV cache exactly as a full recomputation without it", async () => {
    const [sample] = await generateBatch(session, request([{ ids: long, seeds: seeds("a", 3) }], GREEDY))
    const full = [...long, ...sample!.tokens]
    const { logits, seq } = await session.forward({
      batch: 1, inputIds: full, attentionMask: full.map(() => 1), positionIds: full.map((_, i) => i), past: undefined, lastOnly: false
    })
    expect(seq).toBe(full.length)
    const vocab = session.layout.vocab
    sample!.tokens.forEach((token, t) => {
      const row = logits.subarray((long.length - 1 + t) * vocab, (long.length + t) * vocab)
      let best = 0
      for (let i = 1; i < vocab; i++) if (row[i]! > row[best]!) best = i
      expect(token).toBe(best)
      const stats = distributionStats(row)
      expect(sample!.logprobs[t]).toBeCloseTo(row[token]! - stats.logZ, 4)
      expect(sample!.entropies[t]).toBeCloseTo(stats.entropy, 4)
    })
  })

  it("gives left-padded batches the same logits as single rows", async () => {
    const width = long.length
    const pad = width - short.length
    const batch = await session.forward({
      batch: 2,
      inputIds: [...new Array(pad).fill(0), ...short, ...long],
      attentionMask: [...new Array(pad).fill(0), ...short.map(() => 1), ...long.map(() => 1)],
      positionIds: [...new Array(pad).fill(1), ...short.map((_, i) => i), ...long.map((_, i) => i)],
      past: undefined,
      lastOnly: false
    })
    const vocab = session.layout.vocab
    for (const [row, ids, offset] of [[0, short, pad], [1, long, 0]] as const) {
      const single = await session.forward({
        batch: 1, inputIds: ids, attentionMask: ids.map(() => 1), positionIds: ids.map((_, i) => i), past: undefined, lastOnly: false
      })
      expect(Number.isNaN(batch.logits[0]!)).toBe(false)
      for (let p = 0; p < ids.length; p++) {
        const a = batch.logits.subarray((row * width + offset + p) * vocab, (row * width + offset + p + 1) * vocab)
        const b = single.logits.subarray(p * vocab, (p + 1) * vocab)
        for (let i = 0; i < vocab; i += 7) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4)
      }
    }
  })

  it("samples the same tokens for a prompt whether it is batched with others or alone", async () => {
    const together = await generateBatch(session, request([{ ids: short, seeds: seeds("s", 3) }, { ids: long, seeds: seeds("l", 2) }], SAMPLED))
    const alone = [
      ...(await generateBatch(session, request([{ ids: short, seeds: seeds("s", 3) }], SAMPLED))),
      ...(await generateBatch(session, request([{ ids: long, seeds: seeds("l", 2) }], SAMPLED))).map((s) => ({ ...s, group: 1 }))
    ]
    expect(together.map((s) => [s.group, s.sample, s.tokens])).toEqual(alone.map((s) => [s.group, s.sample, s.tokens]))
    together.forEach((s, i) => s.logprobs.forEach((lp, t) => expect(lp).toBeCloseTo(alone[i]!.logprobs[t]!, 4)))
    expect(new Set(together.filter((s) => s.group === 0).map((s) => s.tokens.join(","))).size).toBeGreaterThan(1)
  })

  it("lets prompts join a running batch at a later step (longer and shorter than its past) with the tokens they get alone, each group reported as it ends", async () => {
    const arrivals: GenerationRequest["groups"][] = [[], [{ ids: long, seeds: seeds("l", 2) }], [], [{ ids: short, seeds: seeds("t", 2) }]]
    const lengths: number[] = []
    const reported: Array<[number, number[][]]> = []
    const joined = await generateBatch(session, {
      ...request([{ ids: short, seeds: seeds("s", 3) }], SAMPLED),
      admit: async ({ length }) => (lengths.push(length), arrivals.shift() ?? []),
      onGroupDone: (group, samples) => reported.push([group, samples.map((s) => s.tokens)])
    })
    const alone = [
      ...(await generateBatch(session, request([{ ids: short, seeds: seeds("s", 3) }], SAMPLED))),
      ...(await generateBatch(session, request([{ ids: long, seeds: seeds("l", 2) }], SAMPLED))).map((s) => ({ ...s, group: 1 })),
      ...(await generateBatch(session, request([{ ids: short, seeds: seeds("t", 2) }], SAMPLED))).map((s) => ({ ...s, group: 2 }))
    ]
    expect(lengths[1]! < long.length && lengths[3]! > short.length).toBe(true)
    expect(joined.map((s) => [s.group, s.sample, s.tokens])).toEqual(alone.map((s) => [s.group, s.sample, s.tokens]))
    joined.forEach((s, i) => s.logprobs.forEach((lp, t) => expect(lp).toBeCloseTo(alone[i]!.logprobs[t]!, 4)))
    expect(reported.map(([g]) => g).sort()).toEqual([0, 1, 2])
    for (const [group, tokens] of reported) expect(tokens).toEqual(alone.filter((s) => s.group === group).map((s) => s.tokens))
  })
})
