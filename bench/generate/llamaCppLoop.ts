import { join } from "node:path"
import { createInterface } from "node:readline"
import { pathToFileURL } from "node:url"

/**
 * The llama.cpp side of the generate benchmark, run as its own process by `LlamaCppPeer`: loads a
 * GGUF file with node-llama-cpp (prebuilt llama.cpp binaries) and answers JSON lines on stdin,
 * first `{"packageDir","gguf","threads","sequences","contextSize"}`, then one run per line,
 * `{"prompts":[[ids]],"n","max_new_tokens","stop_at_eos","eos":[..],"seeds":[[..]],"temperature"}`.
 * Each prompt is driven the way llama.cpp's own batched example does best-of-N: all but the last
 * prompt token evaluated once in sequence 0, its KV cells copied to sequences 1..n−1
 * (`llama_memory_seq_cp`), then the n sequences decode together, one llama_decode per step for all
 * unfinished rows (node-llama-cpp batches concurrent sequences), each with its own seeded sampler
 * (top-k, top-p, temperature) and stopping at EOS when asked. With `"together": true` all prompts
 * run at once on their own sequences, so one decode carries every unfinished row of every prompt
 * (what llama.cpp's server does with parallel slots), the way winnow batches a campaign's prompts.
 */

interface Sequence {
  clearHistory(): Promise<void>
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>
  evaluate(tokens: number[], options: Record<string, unknown>): AsyncGenerator<number, void, void>
  _copyStateFromOtherSequence(other: Sequence, upTo: number): Promise<boolean>
}

interface Run {
  readonly prompts: number[][]
  readonly n: number
  readonly max_new_tokens: number
  readonly stop_at_eos: boolean
  readonly eos: number[]
  readonly seeds: number[][]
  readonly temperature?: number
  readonly top_k?: number
  /** All prompts at once, prompt p on sequences p·n … p·n+n−1, every unfinished row of every prompt in each decode. */
  readonly together?: boolean
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const first = JSON.parse((await lines.next()).value as string) as { packageDir: string; gguf: string; threads: number; sequences: number; contextSize: number }
const nlc = (await import(pathToFileURL(join(first.packageDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href)) as {
  getLlama(o: Record<string, unknown>): Promise<{ loadModel(o: Record<string, unknown>): Promise<{ createContext(o: Record<string, unknown>): Promise<{ getSequence(): Sequence }> }> }>
  LlamaLogLevel: Record<string, unknown>
}
const llama = await nlc.getLlama({ gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true, progressLogs: false, logLevel: nlc.LlamaLogLevel.error, maxThreads: first.threads })
const model = await llama.loadModel({ modelPath: first.gguf, gpuLayers: 0 })
const context = await model.createContext({ sequences: first.sequences, contextSize: first.contextSize, threads: { ideal: first.threads, min: first.threads }, batchSize: 512 })
const sequences = Array.from({ length: first.sequences }, () => context.getSequence())
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)

const generateRow = async (sequence: Sequence, last: number, run: Run, seed: number, eos: Set<number>, onFirst: () => void): Promise<number[]> => {
  const out: number[] = []
  const options = { temperature: run.temperature ?? 1, topK: run.top_k ?? 50, topP: 1, minP: 0, seed, yieldEogToken: true }
  for await (const token of sequence.evaluate([last], options)) {
    if (out.length === 0) onFirst()
    if (run.stop_at_eos && eos.has(token)) break
    out.push(token)
    if (out.length >= run.max_new_tokens) break
  }
  return out
}

for (;;) {
  const next = await lines.next()
  if (next.done) break
  if (!next.value.trim()) continue
  const run = JSON.parse(next.value) as Run
  const eos = new Set(run.eos)
  let seconds = 0
  let tokens = 0
  const firsts: number[] = []
  const outputs: number[][][] = []
  const runPrompt = async (prompt: number[], rows: Sequence[], seeds: number[]): Promise<{ generated: number[][]; first: number }> => {
    const started = performance.now()
    let firstAt = 0
    await rows[0]!.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1))
    for (const row of rows.slice(1)) {
      if (!(await row._copyStateFromOtherSequence(rows[0]!, prompt.length - 1))) throw new Error("llama.cpp could not copy the prompt's KV cells")
    }
    const onFirst = () => {
      if (firstAt === 0) firstAt = performance.now()
    }
    const generated = await Promise.all(rows.map((row, i) => generateRow(row, prompt.at(-1)!, run, seeds[i]!, eos, onFirst)))
    return { generated, first: (firstAt - started) / 1000 }
  }
  if (run.together) {
    await Promise.all(sequences.slice(0, run.n * run.prompts.length).map((s) => s.clearHistory()))
    const started = performance.now()
    const all = await Promise.all(run.prompts.map((prompt, p) => runPrompt(prompt, sequences.slice(p * run.n, (p + 1) * run.n), run.seeds[p]!)))
    seconds = (performance.now() - started) / 1000
    for (const { generated, first } of all) {
      firsts.push(first)
      tokens += generated.reduce((t, g) => t + g.length, 0)
      outputs.push(generated)
    }
  } else {
    for (const [p, prompt] of run.prompts.entries()) {
      const rows = sequences.slice(0, run.n)
      await Promise.all(rows.map((s) => s.clearHistory()))
      const started = performance.now()
      const { generated, first } = await runPrompt(prompt, rows, run.seeds[p]!)
      seconds += (performance.now() - started) / 1000
      firsts.push(first)
      tokens += generated.reduce((t, g) => t + g.length, 0)
      outputs.push(generated)
    }
  }
  process.stdout.write(`${JSON.stringify({ seconds, tokens, first_token_seconds: firsts, outputs })}\n`)
}
process.exit(0)
