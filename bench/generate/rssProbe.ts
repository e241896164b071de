import { readFileSync, statSync, writeFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { LocalGenerator } from "../../models/localGenerator.js"
import { onnxWeightFiles } from "../../models/modelHash.js"
import { benchPrompts } from "./model.js"
import { BENCH_SAMPLING, benchSeeds } from "./ours.js"

/** What the probe reports: resident memory before loading and at its peak, and what it must hold. */
export interface RssReport {
  readonly baselineBytes: number
  /** high-water mark over the whole process, model loading included */
  readonly peakBytes: number
  /** high-water mark while generating (the kernel's mark is reset after loading, Linux only) */
  readonly generationPeakBytes: number
  /** resident memory after loading, before generating */
  readonly loadedBytes: number
  readonly weightsBytes: number
  readonly kvBytes: number
}

/**
 * Run as its own process (`node dist/bench/generate/rssProbe.js DIR N PROMPT NEW THREADS [VARIANT]`): loads
 * the generator and samples N × NEW tokens after a PROMPT-token prompt, then prints an `RssReport`.
 * Peak RSS comes from the kernel's high-water mark (getrusage), so it covers native memory too.
 */
const main = async (): Promise<void> => {
  const [dir, n, promptLength, newTokens, threads, variant] = process.argv.slice(2)
  const baselineBytes = process.memoryUsage().rss
  const generator = await LocalGenerator.load(dir!, { intraOpThreads: Number(threads) }, variant)
  const prompts = benchPrompts(1, Number(promptLength))
  const loadedBytes = process.memoryUsage().rss
  writeFileSync("/proc/self/clear_refs", "5")
  await generator.generateIds(prompts, [benchSeeds(0, Number(n))], { ...BENCH_SAMPLING, max_new_tokens: Number(newTokens), ignore_eos: true })
  const report: RssReport = {
    baselineBytes,
    peakBytes: process.resourceUsage().maxRSS * 1024,
    generationPeakBytes: Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024,
    loadedBytes,
    weightsBytes: onnxWeightFiles(generator.dir.weightsPath).reduce((sum, f) => sum + statSync(f).size, 0),
    kvBytes: Number(n) * (Number(promptLength) + Number(newTokens)) * generator.kvBytesPerToken
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
