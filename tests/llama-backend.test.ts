import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, inject, it } from "vitest"
import { ensureLlamaCppConverter } from "../bench/generate/llamaCpp.js"
import { LocalGenerator, type GenerationParams, type GenerationPrompt, type SampleText } from "../models/localGenerator.js"
import { poolWithThreads, ThreadPool } from "../models/inferencePool.js"
import { quantizeGguf } from "../models/llamaCpp/native.js"
import { startServe } from "../serve/server.js"
import { runPython } from "../trainers/pythonEnv.js"
import { buildDecoder, TINY_ROPE_CHAT_OPTIONS } from "./fixtures/index.js"
import { lastJson, repoRoot, runCli, tempDir, writeDemoSpec } from "./support/harness.js"

const params: GenerationParams = { temperature: 0, top_k: 0, top_p: 1, min_p: 0, repetition_penalty: 1, max_new_tokens: 24 }
const prompts: GenerationPrompt[] = [
  { messages: [{ role: "user", content: "Tell me about apples." }], seeds: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] },
  { messages: [{ role: "user", content: "讲一个关于苹果的故事。" }], seeds: [[13, 14, 15, 16], [17, 18, 19, 20]] }
]

const samplesOf = async (dir: string, variant: string | undefined, run: (g: LocalGenerator) => Promise<SampleText[]>): Promise<SampleText[]> => {
  const generator = await LocalGenerator.load(dir, { intraOpThreads: 1 }, variant)
  try {
    return await run(generator)
  } finally {
    await generator.close()
  }
}

const firstDifference = (a: readonly number[], b: readonly number[]): number => {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

/**
 * The tiny rotary chat model (ONNX), its weights converted to GGUF F32 by llama.cpp's own converter
 * (from the llama.cpp sources of the llama-cpp-python sdist) and quantized to Q8_0 and Q4_0 by
 * llama.cpp's quantizer through winnow's bridge, into its gguf/ folder, where `gguf:<type>`
 * variants find them.
 */
const buildGgufModel = async (): Promise<string> => {
  const dir = join(tempDir("llama-backend"), "tiny-rope-chat")
  buildDecoder(dir, TINY_ROPE_CHAT_OPTIONS)
  const python = inject("trainerPython")
  const tree = await ensureLlamaCppConverter(python, () => {})
  const out = join(dir, "gguf")
  mkdirSync(out, { recursive: true })
  await runPython(python, join(repoRoot, "bench", "generate", "to_gguf.py"), [tree, dir, out])
  rmSync(join(out, "hf"), { recursive: true, force: true })
  for (const type of ["q8_0", "q4_0"] as const) {
    if (!existsSync(join(out, `model-${type}.gguf`))) await quantizeGguf(join(out, "model-f32.gguf"), join(out, `model-${type}.gguf`), type, { pure: true })
  }
  return dir
}

describe("a GGUF generator run by llama.cpp (winnow's llama.cpp backend)", () => {
  let dir: string
  beforeAll(async () => { dir = await buildGgufModel() }, 600_000)

  it("samples what the ONNX generator samples from the same weights: greedy tokens and text, the same seeded draws up to near-ties, log-probabilities to 5·10⁻³ (llama.cpp keeps its KV cache in F16), Chinese included", async () => {
    expect(readdirSync(join(dir, "gguf")).sort()).toEqual(["model-f32.gguf", "model-q4_0.gguf", "model-q8_0.gguf"])
    const greedy = { ...params, ignore_eos: true }
    const onnx = await samplesOf(dir, undefined, (g) => g.generate(prompts, greedy))
    const gguf = await samplesOf(dir, "gguf:f32", (g) => g.generate(prompts, greedy))
    expect(gguf.map((s) => [s.prompt, s.sample, s.promptTokens, s.tokens, s.finish, s.text])).toEqual(onnx.map((s) => [s.prompt, s.sample, s.promptTokens, s.tokens, s.finish, s.text]))
    gguf.forEach((s, i) => {
      s.logprobs.forEach((lp, t) => expect(Math.abs(lp - onnx[i]!.logprobs[t]!)).toBeLessThan(5e-3))
      s.entropies.forEach((h, t) => expect(Math.abs(h - onnx[i]!.entropies[t]!)).toBeLessThan(5e-3))
    })
    const seeded = { ...params, temperature: 1, top_k: 20, ignore_eos: true }
    const onnxDraws = await samplesOf(dir, undefined, (g) => g.generate(prompts, seeded))
    const ggufDraws = await samplesOf(dir, "gguf:f32", (g) => g.generate(prompts, seeded))
    expect(new Set(onnxDraws.map((s) => s.tokens!.slice(0, 8).join())).size, "different seeds draw different samples").toBe(prompts.reduce((n, p) => n + p.seeds.length, 0))
    const agreeing = ggufDraws.map((s, i) => firstDifference(s.tokens!, onnxDraws[i]!.tokens!))
    for (const prefix of agreeing) expect(prefix, "each sample starts with the ONNX generator's draws").toBeGreaterThanOrEqual(4)
    expect(agreeing.reduce((a, b) => a + b, 0), "later near-ties may split (F16 KV), most draws agree").toBeGreaterThan((ggufDraws.length * params.max_new_tokens) / 2)
  }, 120_000)

  it("gives the same records for the same seeds and batches at 8 and 4 bits, ending rows at EOS, stop strings and the limit", async () => {
    const finishes = new Set<string>()
    for (const variant of ["gguf:q8_0", "gguf:q4_0"]) {
      const sampling = { ...params, temperature: 1, top_k: 20, max_new_tokens: 40, stop: ["\n\n"] }
      const first = await samplesOf(dir, variant, (g) => g.generate(prompts, sampling))
      const again = await samplesOf(dir, variant, (g) => g.generate(prompts, sampling))
      expect(again).toEqual(first)
      for (const s of first) {
        finishes.add(s.finish)
        expect(s.tokenCount).toBe(s.logprobs.length)
        expect(s.tokenCount).toBeLessThanOrEqual(40)
        if (s.finish === "length") expect(s.tokenCount).toBe(40)
        expect(s.text).not.toContain("\n\n")
      }
    }
    expect(finishes.has("eos")).toBe(true)
  }, 120_000)

  it("runs a campaign with generator.variant gguf:q8_0 through the inference threads and records the GGUF file in the lineage", async () => {
    const home = tempDir("llama-home")
    const spec = writeDemoSpec(tempDir("llama-specs"), "gguf", (s) => { s.name = "gguf"; s.output.dataset = "gguf"; s.rounds = 1; s.generator.model = dir; s.generator.variant = "gguf:q8_0" })
    const env = { TEMPORAL_ADDRESS: "", WINNOW_HOME: home, TEMPORAL_CLI_PATH: inject("temporalCliPath") }
    const ran = await runCli(["run", spec, "--json"], env)
    expect(ran.code, ran.stderr).toBe(0)
    expect(lastJson(ran.stdout)).toMatchObject({ outcome: "ok", rounds: 1 })
    expect(lastJson(ran.stdout).generated).toBeGreaterThan(0)
    const shown = lastJson((await runCli(["dataset", "show", "gguf", "--json"], env)).stdout)
    expect(JSON.stringify(shown)).toContain("gguf:q8_0")
  }, 300_000)

  it("serves a GGUF file over the OpenAI API with continuous batching: requests that arrive while one decodes join it and are answered", async () => {
    const served = await startServe({ modelDir: dir, variant: "gguf:q8_0", name: "tiny-gguf", host: "127.0.0.1", port: 0, pool: poolWithThreads(1, undefined, 1), defaultMaxTokens: 64 })
    try {
      const ask = (seed: number, max_tokens: number) =>
        fetch(`${served.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tiny-gguf", messages: [{ role: "user", content: "讲一个故事。" }], seed, max_tokens, temperature: 1, n: 2 }) })
          .then(async (r) => ({ status: r.status, body: (await r.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } } }))
      const long = ask(1, 200)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const answers = [await long, ...(await Promise.all([ask(2, 8), ask(3, 16)]))]
      for (const answer of answers) {
        expect(answer.status).toBe(200)
        expect(answer.body.choices).toHaveLength(2)
        expect(answer.body.usage.completion_tokens).toBeGreaterThan(0)
      }
      const health = (await (await fetch(`${served.url.replace(/\/v1$/, "")}/health`)).json()) as { generation?: { joined?: number } }
      expect(health.generation?.joined, JSON.stringify(health)).toBeGreaterThan(0)
    } finally {
      await served.close()
    }
  }, 120_000)

  it("hears joins and cancels between decode steps, though llama_decode blocks its thread: a prompt that joins a long generation is answered while it runs, then a cancel stops it", async () => {
    const pool = new ThreadPool(poolWithThreads(1, undefined, 1))
    try {
      const long = { ...params, temperature: 1, max_new_tokens: 1000, ignore_eos: true }
      const client = new AbortController()
      let steps = 0
      let answered!: (steps: number) => void
      const joinAnswered = new Promise<number>((resolve) => (answered = resolve))
      const call = pool.startJoinable(
        { model: dir, variant: "gguf:q8_0", prompts: [prompts[0]!], params: long },
        { onDone: (prompt) => prompt === 1 && answered(steps), onReturned: () => {} },
        () => ++steps === 3 && call.join([{ index: 1, prompt: { ...prompts[1]!, params: { ...params, max_new_tokens: 2 } } }]),
        client.signal
      )
      const first = await Promise.race([joinAnswered.then(() => "join answered"), call.result.then(() => "generation ended", () => "generation ended")])
      expect(first, "the joining prompt must be decoded while the long generation runs, not returned at its end").toBe("join answered")
      expect(await joinAnswered).toBeLessThan(100)
      client.abort()
      await expect(call.result).rejects.toMatchObject({ _tag: "InferenceFailed", reason: "cancelled" })
      expect(steps, "cancelled long before its ~1000 steps").toBeLessThan(200)
    } finally {
      await pool.close()
    }
  }, 120_000)

  it("quantizes the F32 file with llama.cpp's quantizer from the CLI (winnow model quantize), refusing bad input without writing anything", async () => {
    const env = { WINNOW_HOME: tempDir("llama-quantize-home") }
    const bad = await runCli(["model", "quantize", dir, "--to", "q3_x"], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--to: got "q3_x", expected one of q8_0, q4_0, q4_k_m')
    const missing = await runCli(["model", "quantize", dir, "--to", "q4_k_m", "--from", "f16"], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("--from: no gguf/model-f16.gguf")
    expect(readdirSync(join(dir, "gguf")).sort()).toEqual(["model-f32.gguf", "model-q4_0.gguf", "model-q8_0.gguf"])
    const made = await runCli(["model", "quantize", dir, "--to", "q4_k_m", "--json"], env)
    expect(made.code, made.stderr).toBe(0)
    expect(lastJson(made.stdout)).toMatchObject({ variant: "gguf:q4_k_m", output: join(dir, "gguf", "model-q4_k_m.gguf") })
    const samples = await samplesOf(dir, "gguf:q4_k_m", (g) => g.generate(prompts, { ...params, max_new_tokens: 8, ignore_eos: true }))
    expect(samples.map((s) => s.tokenCount)).toEqual([8, 8, 8, 8, 8])
  }, 120_000)

  it("refuses a GGUF variant the model does not have, listing the ones it has", async () => {
    await expect(LocalGenerator.load(dir, { intraOpThreads: 1 }, "gguf:q2_k")).rejects.toMatchObject({ _tag: "InputInvalid" })
    const error = await LocalGenerator.load(dir, { intraOpThreads: 1 }, "gguf:q2_k").catch((e: unknown) => e as Error)
    expect(String((error as { message?: string }).message ?? error)).toContain('"gguf:q8_0"')
    expect(existsSync(join(dir, "gguf", "model-q2_k.gguf"))).toBe(false)
  })
})
