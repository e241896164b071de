import { readFileSync, statSync, writeFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { type GenerationParams, LocalGenerator, type NumberedPrompt } from "../../models/localGenerator.js"
import { onnxWeightFiles } from "../../models/modelHash.js"
import { TextTokenizer } from "../../models/tokenizer.js"
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
 * With `WINNOW_PROBE_JOIN=1` half the rows start alone and the other half join them (continuous
 * batching, as in `winnow serve`) a quarter of the way in, so the peak covers a join's cache merge.
 * Peak RSS comes from the kernel's high-water mark (getrusage), so it covers native memory too.
 */
const main = async (): Promise<void> => {
  const [dir, n, promptLength, newTokens, threads, variant] = process.argv.slice(2)
  const baselineBytes = process.memoryUsage().rss
  const generator = await LocalGenerator.load(dir!, { intraOpThreads: Number(threads) }, variant)
  const prompts = benchPrompts(1, Number(promptLength))
  const loadedBytes = process.memoryUsage().rss
  writeFileSync("/proc/self/clear_refs", "5")
  const params = { ...BENCH_SAMPLING, max_new_tokens: Number(newTokens), ignore_eos: true }
  if (process.env.WINNOW_PROBE_JOIN === "1") await generateWithJoin(generator, prompts[0]!, Number(n), params)
  else await generator.generateIds(prompts, [benchSeeds(0, Number(n))], params)
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

/** Half of the `n` rows decode alone; the other half join at the step a quarter of `max_new_tokens` in. */
const generateWithJoin = async (generator: LocalGenerator, ids: readonly number[], n: number, params: GenerationParams): Promise<void> => {
  const text = await TextTokenizer.load(generator.dir).decode(ids)
  const seeds = benchSeeds(0, n)
  const half = Math.floor(n / 2)
  let steps = 0
  let waiting: NumberedPrompt[] = [{ index: 1, prompt: { messages: [], text, seeds: seeds.slice(half) } }]
  await generator.generateJoinable([{ index: 0, prompt: { messages: [], text, seeds: seeds.slice(0, half) } }], params, {
    admit: (fits) => {
      if (++steps < params.max_new_tokens / 4 || waiting.length === 0 || !fits(waiting[0]!.prompt)) return []
      const joined = waiting
      waiting = []
      return joined
    },
    onPromptDone: () => {}
  })
  if (waiting.length > 0) throw new Error("the second half never joined: the batch budget refused it")
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
