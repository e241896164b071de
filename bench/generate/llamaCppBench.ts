import { httpSeed } from "../../core/seeds.js"
import { LocalGenerator } from "../../models/localGenerator.js"
import { readModelDir, tokenIdList } from "../../models/modelDir.js"
import { type BenchResult, benchResult } from "../result.js"
import { ensureGguf, ensureNodeLlamaCpp, ensureQuantizedOnnx, type GgufFiles, LlamaCppPeer, type LlamaCppTimed, linkGgufVariants } from "./llamaCpp.js"
import { ensureLlamaCppTools } from "./llamaCppBuild.js"
import { benchPrompts, ropeModelDir } from "./model.js"
import { OrtPythonPeer } from "./ortPython.js"
import { BENCH_SAMPLING, benchSeeds, runOurs, type Timed } from "./ours.js"

const FIXED_PROMPT = 128
const FIXED_NEW = 64
const BEST_PROMPT = 512
const BEST_N = 8
const BEST_NEW = 256
const GREEDY_TOKENS = 16
const IO_BINDING_NS = [1, 8, 16] as const

/** One side-by-side precision (`key` for `--precisions`): our ONNX variant (undefined: model.onnx, float32) against a GGUF file type. */
interface Precision {
  readonly key: string
  readonly name: string
  readonly variant: string | undefined
  readonly gguf: keyof GgufFiles
}

const PRECISIONS: readonly Precision[] = [
  { key: "f32", name: "F32 (ONNX float32 vs GGUF F32)", variant: undefined, gguf: "f32" },
  { key: "q8", name: "8-bit (ONNX MatMulNBits 8-bit vs GGUF Q8_0)", variant: "q8", gguf: "q8_0" },
  { key: "quantized", name: "8-bit (ONNX model_quantized int8 dynamic vs GGUF Q8_0)", variant: "quantized", gguf: "q8_0" },
  { key: "q4", name: "4-bit (ONNX MatMulNBits 4-bit vs GGUF Q4_0)", variant: "q4", gguf: "q4_0" },
  { key: "q4_k", name: "4-bit (ONNX MatMulNBits 4-bit vs GGUF Q4_K_M)", variant: "q4", gguf: "q4_k_m" }
]

/** What a llama.cpp comparison runs: model size, repetitions, which precisions (by GGUF type; all by default). */
export interface LlamaCppOptions {
  readonly threads: number
  readonly large: boolean
  readonly reps: number
  readonly bestPrompts: number
  readonly precisions?: readonly string[]
  readonly ioBinding: boolean
  /** llama.cpp decodes best-of-8 prompt after prompt (8 sequences) instead of all prompts at once (8 × prompts sequences). */
  readonly promptByPrompt?: boolean
  /** Ours runs the same GGUF files through winnow's llama.cpp backend (`gguf:<type>` variants) instead of the ONNX files. */
  readonly oursGguf?: boolean
}

const llamaSeeds = (prompts: number, n: number, round: number) =>
  Array.from({ length: prompts }, (_, p) => benchSeeds(p, n, round).map((s) => httpSeed(s)))

/**
 * winnow's generator against llama.cpp (node-llama-cpp's prebuilt binaries) on the rotary twin of
 * the bench model (or the 0.36 B Qwen2.5-shaped one with `large`), both built from the same weights,
 * at every precision (GGUF Q8_0, Q4_0 and Q4_K_M from llama.cpp's own llama-quantize, built from
 * the same release's sources): greedy agreement over the first tokens, fixed 128+64 at N = 1 and 8 (fastest
 * of `reps`), best-of-8 with 512-token prompts and up to 256 new tokens stopping at EOS (ours
 * batches the prompts' rows together as a campaign does; llama.cpp too, on 8 sequences per prompt,
 * unless `promptByPrompt`). Ours and
 * the peer alternate run by run with the same thread count. With `ioBinding`, also ours against
 * ONNX Runtime for Python's IO-binding loop at N = 1, 8, 16 on the float32 file.
 */
export const llamaCppResults = async (options: LlamaCppOptions, log: (line: string) => void): Promise<BenchResult[]> => {
  const unknown = (options.precisions ?? []).filter((k) => !PRECISIONS.some((p) => p.key === k))
  if (unknown.length > 0) throw new Error(`--precisions: got ${unknown.join(",")}, expected some of ${PRECISIONS.map((p) => p.key).join(",")}`)
  const dir = ropeModelDir(options.large)
  const model = readModelDir(dir, "model", "bench")
  const eos = tokenIdList(model.generationConfig.eos_token_id)
  const label = options.large ? "0.36B Qwen2.5-shape model, " : ""
  const ggufs = await ensureGguf(dir, await ensureLlamaCppTools(log), log)
  await ensureQuantizedOnnx(dir, log)
  const packageDir = await ensureNodeLlamaCpp(log)
  const fixedPrompt = benchPrompts(1, FIXED_PROMPT)
  const bestPrompts = benchPrompts(options.bestPrompts, BEST_PROMPT)
  const results: BenchResult[] = []
  if (options.oursGguf) linkGgufVariants(dir, ggufs)
  const precisions = PRECISIONS.filter((p) => !options.precisions || options.precisions.includes(p.key)).filter((p) => !options.oursGguf || p.key !== "quantized")
  for (const base of precisions) {
    const precision = options.oursGguf ? { ...base, name: `${base.gguf.toUpperCase()} (winnow's llama.cpp backend vs llama.cpp, same GGUF file)`, variant: `gguf:${base.gguf}` } : base
    log(`${label}${precision.name}: ${dir} variant ${precision.variant ?? "model"} / ${ggufs[precision.gguf]} (${options.threads} threads)`)
    const ours = await LocalGenerator.load(dir, { intraOpThreads: options.threads }, precision.variant)
    const sequences = options.promptByPrompt ? BEST_N : BEST_N * bestPrompts.length
    const peer = await LlamaCppPeer.start(packageDir, ggufs[precision.gguf], options.threads, sequences, BEST_PROMPT + BEST_NEW + 16)
    try {
      const greedy = { ...BENCH_SAMPLING, temperature: 0, max_new_tokens: GREEDY_TOKENS, ignore_eos: true }
      const oursGreedy = await ours.generateIds(fixedPrompt, [benchSeeds(0, 1)], greedy)
      const peerGreedy = await peer.run(fixedPrompt, 1, GREEDY_TOKENS, eos, false, [[0]], 0)
      const agree = firstDifference(oursGreedy[0]!.tokens ?? [], peerGreedy.outputs[0]![0]!)
      log(`greedy: first ${agree} of ${GREEDY_TOKENS} tokens agree; ours ${JSON.stringify(oursGreedy[0]!.tokens)}, llama.cpp ${JSON.stringify(peerGreedy.outputs[0]![0])}`)
      results.push(benchResult(`${label}llama.cpp ${precision.name}: greedy tokens agreeing before the first difference (peer = ${GREEDY_TOKENS})`, agree, GREEDY_TOKENS, "tokens"))
      const together = !options.promptByPrompt
      results.push(...(await compare(ours, peer, fixedPrompt, bestPrompts, eos, options.reps, together, `${label}llama.cpp ${precision.name}`, log)))
    } finally {
      await peer.close()
      await ours.close()
    }
  }
  if (options.ioBinding) results.push(...(await compareIoBinding(dir, model.weightsPath, options, fixedPrompt, eos, label, log)))
  return results
}

const firstDifference = (a: readonly number[], b: readonly number[]): number => {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

const compare = async (
  ours: LocalGenerator,
  peer: LlamaCppPeer,
  fixedPrompt: number[][],
  bestPrompts: number[][],
  eos: readonly number[],
  reps: number,
  together: boolean,
  label: string,
  log: (line: string) => void
): Promise<BenchResult[]> => {
  const fixedParams = { ...BENCH_SAMPLING, max_new_tokens: FIXED_NEW, ignore_eos: true }
  await runOurs(ours, fixedPrompt, 2, { ...fixedParams, max_new_tokens: 4 })
  await peer.run(fixedPrompt, 2, 4, eos, false, llamaSeeds(1, 2, 0))
  const fixed = { ours: new Map<number, number[]>(), peer: new Map<number, number[]>() }
  const best = { ours: [] as Timed[], peer: [] as LlamaCppTimed[] }
  const push = (m: Map<number, number[]>, n: number, t: Timed) => m.set(n, [...(m.get(n) ?? []), t.seconds])
  for (let rep = 0; rep < reps; rep++) {
    for (const n of [1, BEST_N]) {
      push(fixed.ours, n, await runOurs(ours, fixedPrompt, n, fixedParams, rep))
      push(fixed.peer, n, await peer.run(fixedPrompt, n, FIXED_NEW, eos, false, llamaSeeds(1, n, rep)))
    }
    best.ours.push(await runOurs(ours, bestPrompts, BEST_N, { ...BENCH_SAMPLING, max_new_tokens: BEST_NEW }, rep))
    best.peer.push(await peer.run(bestPrompts, BEST_N, BEST_NEW, eos, true, llamaSeeds(bestPrompts.length, BEST_N, rep), 1, together))
    log(`repetition ${rep + 1}/${reps}: fixed ${JSON.stringify(Object.fromEntries([...fixed.ours].map(([n, t]) => [n, [t.at(-1), fixed.peer.get(n)!.at(-1)]])))} s; best-of-8 ours ${JSON.stringify(best.ours.at(-1))}, llama.cpp ${JSON.stringify({ ...best.peer.at(-1), outputs: undefined })}`)
  }
  const rate = (times: number[], n: number) => (n * FIXED_NEW) / Math.min(...times)
  const seconds = (runs: Timed[]) => runs.reduce((s, r) => s + r.seconds, 0)
  const tokens = (runs: Timed[]) => runs.reduce((s, r) => s + r.tokens, 0)
  const perPrompt = (runs: Timed[]) => seconds(runs) / (runs.length * bestPrompts.length)
  log(`best-of-8 tokens generated: ours ${tokens(best.ours)}, llama.cpp ${tokens(best.peer)}`)
  return [
    benchResult(`${label} fixed 128+64 N=1`, rate(fixed.ours.get(1)!, 1), rate(fixed.peer.get(1)!, 1), "tok/s"),
    benchResult(`${label} fixed 128+64 N=8`, rate(fixed.ours.get(BEST_N)!, BEST_N), rate(fixed.peer.get(BEST_N)!, BEST_N), "tok/s"),
    benchResult(`${label} best-of-8 512+≤256, generated tokens per second`, tokens(best.ours) / seconds(best.ours), tokens(best.peer) / seconds(best.peer), "tok/s"),
    benchResult(`${label} best-of-8 512+≤256`, perPrompt(best.ours), perPrompt(best.peer), "s/prompt", true)
  ]
}

/** Ours against ONNX Runtime for Python's IO-binding loop (prefill once, zero-copy steps) on the float32 file, fixed 128+64. */
const compareIoBinding = async (
  dir: string,
  onnxPath: string,
  options: LlamaCppOptions,
  fixedPrompt: number[][],
  eos: readonly number[],
  label: string,
  log: (line: string) => void
): Promise<BenchResult[]> => {
  const ours = await LocalGenerator.load(dir, { intraOpThreads: options.threads })
  const python = await OrtPythonPeer.start(onnxPath, options.threads, log)
  const fixedParams = { ...BENCH_SAMPLING, max_new_tokens: FIXED_NEW, ignore_eos: true }
  const times = { ours: new Map<number, number[]>(), bound: new Map<number, number[]>() }
  const push = (m: Map<number, number[]>, n: number, t: Timed) => m.set(n, [...(m.get(n) ?? []), t.seconds])
  try {
    await runOurs(ours, fixedPrompt, 2, { ...fixedParams, max_new_tokens: 4 })
    await python.run(fixedPrompt, 2, 4, eos, false, 0, true)
    for (let rep = 0; rep < options.reps + 2; rep++) {
      for (const n of IO_BINDING_NS) {
        push(times.ours, n, await runOurs(ours, fixedPrompt, n, fixedParams, rep))
        push(times.bound, n, await python.run(fixedPrompt, n, FIXED_NEW, eos, false, rep, true))
      }
      log(`IO-binding repetition ${rep + 1}: ${JSON.stringify(Object.fromEntries([...times.ours].map(([n, t]) => [n, [t.at(-1), times.bound.get(n)!.at(-1)]])))} s`)
    }
  } finally {
    await python.close()
    await ours.close()
  }
  const rate = (t: number[], n: number) => (n * FIXED_NEW) / Math.min(...t)
  return IO_BINDING_NS.map((n) =>
    benchResult(`${label}generate fixed 128+64 N=${n} vs onnxruntime-python IO-binding loop (float32)`, rate(times.ours.get(n)!, n), rate(times.bound.get(n)!, n), "tok/s")
  )
}
