import { execFile } from "node:child_process"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { LocalGenerator } from "../models/localGenerator.js"
import { readModelDir, tokenIdList } from "../models/modelDir.js"
import { type BenchResult, benchResult, report } from "./result.js"
import { benchModelDir, benchPrompts } from "./generate/model.js"
import { runOrtPython } from "./generate/ortPython.js"
import { BENCH_SAMPLING, runOurs } from "./generate/ours.js"
import { comparePools } from "./generate/pools.js"
import type { RssReport } from "./generate/rssProbe.js"
import { TransformersJsPeer } from "./generate/transformersJs.js"

const FIXED_NS = [1, 4, 8, 16] as const
const FIXED_PROMPT = 128
const FIXED_NEW = 64
const FIXED_REPS = 3
const BEST_PROMPT = 512
const BEST_N = 8
const BEST_NEW = 256
const BEST_PROMPTS = 4
const TTFT_REPS = 3

const log = (line: string) => process.stderr.write(`${line}\n`)

/**
 * `npm run bench -- generate`: winnow's local generator against (a) a plain ONNX Runtime for
 * Python KV-cache loop and (b) transformers.js, on the same ONNX file with the same thread count.
 * Prints one JSON line per measurement; the last line is the headline: best-of-N seconds per
 * prompt against ONNX Runtime for Python, the campaign workload against the strongest peer.
 * Fixed-length figures take the fastest of three repetitions (the machine is shared).
 * Options: `--threads N` (default: all cores), `--skip-transformers-js`.
 */
export const main = async (args: string[]): Promise<void> => {
  const threadsAt = args.indexOf("--threads")
  const threads = threadsAt >= 0 ? Number(args[threadsAt + 1]) : availableParallelism()
  const dir = benchModelDir()
  const model = readModelDir(dir, "model", "bench")
  const eos = tokenIdList(model.generationConfig.eos_token_id)
  const fixedPrompt = benchPrompts(1, FIXED_PROMPT)
  const bestPrompts = benchPrompts(BEST_PROMPTS, BEST_PROMPT)
  log(`model ${dir} (${threads} threads)`)

  const ours = await measureOurs(dir, threads, fixedPrompt, bestPrompts)
  log(`ours: ${JSON.stringify(ours)}`)

  const python = await runOrtPython(model.onnxPath, threads, [
    { name: "warmup", prompts: fixedPrompt, n: 4, max_new_tokens: 8, stop_at_eos: false, eos, seed: 0 },
    ...FIXED_NS.map((n) => ({ name: `fixed-${n}`, prompts: Array(FIXED_REPS).fill(fixedPrompt[0]!), n, max_new_tokens: FIXED_NEW, stop_at_eos: false, eos, seed: n })),
    { name: "best", prompts: bestPrompts, n: BEST_N, max_new_tokens: BEST_NEW, stop_at_eos: true, eos, seed: 7 }
  ], log)
  log(`onnxruntime (python): ${JSON.stringify([...python.values()])}`)

  const tjs = args.includes("--skip-transformers-js") ? undefined : await measureTransformersJs(dir, threads, fixedPrompt, bestPrompts, eos)
  log(`transformers.js: ${JSON.stringify(tjs)}`)

  const details: BenchResult[] = []
  for (const n of FIXED_NS) {
    const ourRate = ours.fixed[n]!
    const py = python.get(`fixed-${n}`)!
    details.push(benchResult(`generate fixed 128+64 N=${n} vs onnxruntime-python`, ourRate, (n * FIXED_NEW) / Math.min(...py.per_prompt), "tok/s"))
    if (tjs) details.push(benchResult(`generate fixed 128+64 N=${n} vs transformers.js`, ourRate, tjs.fixed[n]!, "tok/s"))
  }
  const py = python.get("best")!
  const pySeconds = py.seconds / BEST_PROMPTS
  log(`best-of-N tokens generated: ours ${ours.best.tokens}, python ${py.tokens}${tjs ? `, transformers.js ${tjs.best.tokens}` : ""}`)
  if (tjs) details.push(benchResult("generate best-of-8 512+≤256 vs transformers.js", ours.best.seconds / BEST_PROMPTS, tjs.best.seconds / BEST_PROMPTS, "s/prompt", true))
  details.push(benchResult("generate best-of-8 tokens/s vs onnxruntime-python", ours.best.tokens / ours.best.seconds, py.tokens / py.seconds, "tok/s"))
  details.push(benchResult("TTFT 512-token prompt, N=16 over N=1 (peer = 1.3 goal)", ours.ttft16 / ours.ttft1, 1.3, "x", true))

  const rss = await probeRss(dir, threads)
  const held = rss.weightsBytes + rss.kvBytes
  log(`rss: ${JSON.stringify(rss)}`)
  details.push(benchResult("peak RSS while generating N=16×(512+256) over weights+KV (peer = 1.5 goal)", rss.generationPeakBytes / held, 1.5, "x", true))
  details.push(benchResult("peak RSS incl. model loading over weights+KV (peer = 1.5 goal)", rss.peakBytes / held, 1.5, "x", true))

  const pools = await comparePools(dir, threads, log)
  details.push(benchResult(`pool ${pools.many.threads}×${pools.many.intra} threads vs ${pools.one.threads}×${pools.one.intra} (4 concurrent best-of-8 requests)`, pools.many.seconds, pools.one.seconds, "s", true))

  report(details, benchResult("generate best-of-8 512+≤256 vs onnxruntime-python", ours.best.seconds / BEST_PROMPTS, pySeconds, "s/prompt", true))
}

interface OurFigures {
  readonly fixed: Record<number, number>
  readonly best: { seconds: number; tokens: number }
  readonly ttft1: number
  readonly ttft16: number
}

const measureOurs = async (dir: string, threads: number, fixedPrompt: number[][], bestPrompts: number[][]): Promise<OurFigures> => {
  const generator = await LocalGenerator.load(dir, { intraOpThreads: threads })
  try {
    await runOurs(generator, fixedPrompt, 4, { ...BENCH_SAMPLING, max_new_tokens: 8, ignore_eos: true })
    const fixed: Record<number, number> = {}
    for (const n of FIXED_NS) {
      const times: number[] = []
      for (let rep = 0; rep < FIXED_REPS; rep++) {
        times.push((await runOurs(generator, fixedPrompt, n, { ...BENCH_SAMPLING, max_new_tokens: FIXED_NEW, ignore_eos: true }, rep)).seconds)
      }
      fixed[n] = (n * FIXED_NEW) / Math.min(...times)
    }
    const best = await runOurs(generator, bestPrompts, BEST_N, { ...BENCH_SAMPLING, max_new_tokens: BEST_NEW })
    const ttft = async (n: number) => {
      const times: number[] = []
      for (let rep = 0; rep < TTFT_REPS; rep++) {
        times.push((await runOurs(generator, [bestPrompts[0]!], n, { ...BENCH_SAMPLING, max_new_tokens: 1, ignore_eos: true }, rep)).firstTokenSeconds)
      }
      return Math.min(...times)
    }
    const ttft1 = await ttft(1)
    const ttft16 = await ttft(16)
    return { fixed, best: { seconds: best.seconds, tokens: best.tokens }, ttft1, ttft16 }
  } finally {
    await generator.close()
  }
}

const measureTransformersJs = async (dir: string, threads: number, fixedPrompt: number[][], bestPrompts: number[][], eos: number[]) => {
  const peer = await TransformersJsPeer.load(dir, threads)
  try {
    await peer.run(fixedPrompt, 4, 8, eos, false)
    const fixed: Record<number, number> = {}
    for (const n of FIXED_NS) {
      const times: number[] = []
      for (let rep = 0; rep < FIXED_REPS; rep++) times.push((await peer.run(fixedPrompt, n, FIXED_NEW, eos, false)).seconds)
      fixed[n] = (n * FIXED_NEW) / Math.min(...times)
    }
    const best = await peer.run(bestPrompts, BEST_N, BEST_NEW, eos, true)
    return { fixed, best }
  } finally {
    await peer.close()
  }
}

const probeRss = async (dir: string, threads: number): Promise<RssReport> => {
  const script = fileURLToPath(new URL("./generate/rssProbe.js", import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [script, dir, "16", String(BEST_PROMPT), "256", String(threads)])
  return JSON.parse(stdout) as RssReport
}
