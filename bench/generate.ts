import { execFile } from "node:child_process"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { LocalGenerator } from "../models/localGenerator.js"
import { readModelDir, tokenIdList } from "../models/modelDir.js"
import { type BenchResult, benchResult, report } from "./result.js"
import { benchModelDir, benchPrompts, largeRssModelDir } from "./generate/model.js"
import { llamaCppResults } from "./generate/llamaCppBench.js"
import { OrtPythonPeer } from "./generate/ortPython.js"
import { BENCH_SAMPLING, runOurs, type Timed } from "./generate/ours.js"
import { comparePools } from "./generate/pools.js"
import type { RssReport } from "./generate/rssProbe.js"
import { compareServeBatching } from "./generate/serveBatching.js"
import { TransformersJsPeer } from "./generate/transformersJs.js"

const FIXED_NS = [1, 4, 8, 16] as const
const FIXED_PROMPT = 128
const FIXED_NEW = 64
const FIXED_REPS = 5
const BEST_PROMPT = 512
const BEST_N = 8
const BEST_NEW = 256
const BEST_PROMPTS = 4
const BEST_ROUNDS = 2
const TTFT_REPS = 3
const RSS_N = 16
const RSS_NEW = 256

const log = (line: string) => process.stderr.write(`${line}\n`)

/**
 * `npm run bench -- generate`: winnow's local generator against (a) a plain ONNX Runtime for
 * Python KV-cache loop and (b) transformers.js, on the same ONNX file with the same thread count.
 * Prints one JSON line per measurement; the last line is the headline: best-of-N seconds per
 * prompt against ONNX Runtime for Python, the campaign workload against the strongest peer.
 * The three implementations take turns run by run (the machine is shared, so slow spells hit all
 * of them); fixed-length figures take the fastest of five repetitions, best-of-N sums two rounds.
 * Options: `--threads N` (default: all cores), `--skip-transformers-js`, `--only-serve` (just the
 * `winnow serve` batching comparison), `--only-rss` (just the peak-memory measurements; with
 * `--large` also on a 0.36 B-parameter model of a real small LLM's shape, ~10 minutes more),
 * `--llama-cpp` (just the comparison with llama.cpp at F32, 8-bit and 4-bit on the bench model's
 * rotary twin, or with `--large` on the 0.36 B model; `--precisions f32,q8,quantized,q4,q4_k`,
 * `--reps N`, `--best-prompts N`, `--io-binding` adds ours vs ONNX Runtime's IO-binding loop,
 * `--llama-prompt-by-prompt` has llama.cpp decode best-of-8 one prompt at a time, `--ours-gguf` runs
 * winnow's own generator on the same GGUF files through its llama.cpp backend instead of ONNX).
 */
export const main = async (args: string[]): Promise<void> => {
  const threadsAt = args.indexOf("--threads")
  const threads = threadsAt >= 0 ? Number(args[threadsAt + 1]) : availableParallelism()
  const dir = benchModelDir()
  if (args.includes("--llama-cpp")) {
    const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined)
    const large = args.includes("--large")
    const options = {
      threads,
      large,
      reps: Number(value("--reps") ?? (large ? 1 : 3)),
      bestPrompts: Number(value("--best-prompts") ?? (large ? 2 : 4)),
      precisions: value("--precisions")?.split(","),
      ioBinding: args.includes("--io-binding"),
      promptByPrompt: args.includes("--llama-prompt-by-prompt"),
      oursGguf: args.includes("--ours-gguf")
    }
    const results = await llamaCppResults(options, log)
    const headline = results.find((r) => r.unit === "s/prompt") ?? results.at(-1)!
    return report(results.filter((r) => r !== headline), headline)
  }
  if (args.includes("--only-rss")) {
    const [first, ...rest] = await rssResults(dir, readModelDir(dir, "model", "bench").weightsPath, threads, benchPrompts(1, BEST_PROMPT)[0]!)
    if (args.includes("--large")) {
      const large = largeRssModelDir()
      rest.push(...(await rssResults(large, readModelDir(large, "model", "bench").weightsPath, threads, benchPrompts(1, BEST_PROMPT)[0]!, "0.36B model ")))
    }
    return report(rest, first!)
  }
  if (args.includes("--only-serve")) {
    const [first, ...rest] = await serveResults(dir, threads)
    return report(rest, first!)
  }
  const model = readModelDir(dir, "model", "bench")
  const eos = tokenIdList(model.generationConfig.eos_token_id)
  const fixedPrompt = benchPrompts(1, FIXED_PROMPT)
  const bestPrompts = benchPrompts(BEST_PROMPTS, BEST_PROMPT)
  log(`model ${dir} (${threads} threads)`)

  const generator = await LocalGenerator.load(dir, { intraOpThreads: threads })
  const python = await OrtPythonPeer.start(model.weightsPath, threads, log)
  const tjs = args.includes("--skip-transformers-js") ? undefined : await TransformersJsPeer.load(dir, threads)
  const fixedParams = { ...BENCH_SAMPLING, max_new_tokens: FIXED_NEW, ignore_eos: true }
  const bestParams = { ...BENCH_SAMPLING, max_new_tokens: BEST_NEW }
  const fixed = { ours: new Map<number, number[]>(), python: new Map<number, number[]>(), tjs: new Map<number, number[]>() }
  const best = { ours: [] as Timed[], python: [] as Timed[], tjs: [] as Timed[] }
  const push = (m: Map<number, number[]>, n: number, t: Timed) => m.set(n, [...(m.get(n) ?? []), t.seconds])
  try {
    await runOurs(generator, fixedPrompt, 4, { ...fixedParams, max_new_tokens: 8 })
    await python.run(fixedPrompt, 4, 8, eos, false, 0)
    await tjs?.run(fixedPrompt, 4, 8, eos, false)
    for (let rep = 0; rep < FIXED_REPS; rep++) {
      for (const n of FIXED_NS) {
        push(fixed.ours, n, await runOurs(generator, fixedPrompt, n, fixedParams, rep))
        push(fixed.python, n, await python.run(fixedPrompt, n, FIXED_NEW, eos, false, rep))
        if (tjs) push(fixed.tjs, n, await tjs.run(fixedPrompt, n, FIXED_NEW, eos, false))
      }
      log(`fixed-length repetition ${rep + 1}/${FIXED_REPS} done`)
    }
    for (let round = 0; round < BEST_ROUNDS; round++) {
      best.ours.push(await runOurs(generator, bestPrompts, BEST_N, bestParams, round))
      best.python.push(await python.run(bestPrompts, BEST_N, BEST_NEW, eos, true, round))
      if (tjs) best.tjs.push(await tjs.run(bestPrompts, BEST_N, BEST_NEW, eos, true))
      log(`best-of-N round ${round + 1}/${BEST_ROUNDS}: ${JSON.stringify({ ours: best.ours.at(-1), python: best.python.at(-1), tjs: best.tjs.at(-1) })}`)
    }
  } finally {
    await python.close()
    await tjs?.close()
  }
  const ttft = await measureTtft(generator, bestPrompts[0]!)
  await generator.close()
  log(`ttft: ${JSON.stringify(ttft)}`)

  const details: BenchResult[] = []
  const rate = (times: number[] | undefined, n: number) => (n * FIXED_NEW) / Math.min(...(times ?? [Number.NaN]))
  for (const n of FIXED_NS) {
    details.push(benchResult(`generate fixed 128+64 N=${n} vs onnxruntime-python`, rate(fixed.ours.get(n), n), rate(fixed.python.get(n), n), "tok/s"))
    if (tjs) details.push(benchResult(`generate fixed 128+64 N=${n} vs transformers.js`, rate(fixed.ours.get(n), n), rate(fixed.tjs.get(n), n), "tok/s"))
  }
  const perPrompt = (runs: Timed[]) => runs.reduce((s, r) => s + r.seconds, 0) / (runs.length * BEST_PROMPTS)
  const tokens = (runs: Timed[]) => runs.reduce((s, r) => s + r.tokens, 0)
  log(`best-of-N tokens generated: ours ${tokens(best.ours)}, python ${tokens(best.python)}, transformers.js ${tokens(best.tjs)}`)
  if (tjs) details.push(benchResult("generate best-of-8 512+≤256 vs transformers.js", perPrompt(best.ours), perPrompt(best.tjs), "s/prompt", true))
  details.push(benchResult("TTFT 512-token prompt, N=16 over N=1 (peer = 1.3 goal)", ttft.n16 / ttft.n1, 1.3, "x", true))

  details.push(...(await rssResults(dir, model.weightsPath, threads, bestPrompts[0]!)))

  const pools = await comparePools(dir, threads, log)
  details.push(benchResult(`pool ${pools.many.threads}×${pools.many.intra} threads vs ${pools.one.threads}×${pools.one.intra} (4 concurrent best-of-8 requests)`, pools.many.seconds, pools.one.seconds, "s", true))

  details.push(...(await serveResults(dir, threads)))

  report(details, benchResult("generate best-of-8 512+≤256 vs onnxruntime-python", perPrompt(best.ours), perPrompt(best.python), "s/prompt", true))
}

const measureTtft = async (generator: LocalGenerator, prompt: number[]): Promise<{ n1: number; n16: number }> => {
  const first = async (n: number, rep: number) =>
    (await runOurs(generator, [prompt], n, { ...BENCH_SAMPLING, max_new_tokens: 1, ignore_eos: true }, rep)).firstTokenSeconds
  const n1: number[] = []
  const n16: number[] = []
  for (let rep = 0; rep < TTFT_REPS; rep++) {
    n1.push(await first(1, rep))
    n16.push(await first(16, rep))
  }
  return { n1: Math.min(...n1), n16: Math.min(...n16) }
}

/** `winnow serve` with and without cross-request batching: many n = 1 clients, then fewer n = 4 ones. */
const serveResults = async (dir: string, threads: number): Promise<BenchResult[]> => {
  const results: BenchResult[] = []
  for (const [clients, n, mixed] of [[16, 1, false], [16, 1, true], [8, 4, false]] as const) {
    const serve = await compareServeBatching(dir, threads, clients, n, log, mixed)
    const what = mixed ? "temperatures 0.6–1.2, max_tokens 64–128" : "≤128 tokens"
    results.push(benchResult(`winnow serve, ${clients} concurrent requests (n=${n}, ${what}): batched vs --no-batch`, serve.batched, serve.unbatched, "s", true))
  }
  return results
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20)

/**
 * Peak RSS generating N=16 × 256 after a 512-token prompt: ours over weights + KV (the goal), then
 * ours against peer (a) as it is and against peer (a) driven zero-copy with IO binding, each in a
 * fresh process.
 */
const rssResults = async (dir: string, onnxPath: string, threads: number, prompt: readonly number[], model = ""): Promise<BenchResult[]> => {
  const rss = await probeRss(dir, threads)
  const pythonPeak = await pythonPeakRss(onnxPath, threads, prompt, false)
  const boundPeak = await pythonPeakRss(onnxPath, threads, prompt, true)
  const held = rss.weightsBytes + rss.kvBytes
  log(`rss: ${JSON.stringify(rss)}; onnxruntime-python peak ${pythonPeak}, with IO binding ${boundPeak}`)
  log(`rss breakdown: idle runtime ${mib(rss.baselineBytes)} MiB, after loading ${mib(rss.loadedBytes)} MiB, peak while generating ${mib(rss.generationPeakBytes)} MiB; weights ${mib(rss.weightsBytes)} MiB, KV cache ${mib(rss.kvBytes)} MiB`)
  return [
    benchResult(`${model}peak RSS while generating N=16×(512+256) over weights+KV (peer = 1.5 goal)`, rss.generationPeakBytes / held, 1.5, "x", true),
    benchResult(`${model}peak RSS while generating N=16×(512+256) vs onnxruntime-python`, mib(rss.generationPeakBytes), mib(pythonPeak), "MiB", true),
    benchResult(`${model}peak RSS while generating N=16×(512+256) vs onnxruntime-python with zero-copy IO binding`, mib(rss.generationPeakBytes), mib(boundPeak), "MiB", true),
    benchResult(`${model}onnxruntime-python with zero-copy IO binding, peak RSS over weights+KV (peer = 1.5 goal)`, boundPeak / held, 1.5, "x", true)
  ]
}

/** Peer (a)'s peak resident memory on the RSS probe's workload, in a fresh process of its own. */
const pythonPeakRss = async (onnxPath: string, threads: number, prompt: readonly number[], ioBinding: boolean): Promise<number> => {
  const peer = await OrtPythonPeer.start(onnxPath, threads, log)
  try {
    return await peer.peakRss(prompt, RSS_N, RSS_NEW, ioBinding)
  } finally {
    await peer.close()
  }
}

const probeRss = async (dir: string, threads: number): Promise<RssReport> => {
  const script = fileURLToPath(new URL("./generate/rssProbe.js", import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [script, dir, String(RSS_N), String(BEST_PROMPT), String(RSS_NEW), String(threads)])
  return JSON.parse(stdout) as RssReport
}
