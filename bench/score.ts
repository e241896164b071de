import { availableParallelism } from "node:os"
import { Effect, ManagedRuntime, Result } from "effect"
import { decodeSpec, type ScorerSpec } from "../campaign/spec.js"
import { ClassifierSession } from "../models/classifierSession.js"
import { InferencePool, poolWithThreads } from "../models/inferencePool.js"
import { readModelDir, tokenIdList } from "../models/modelDir.js"
import type { ScoreInput } from "../scorers/contract.js"
import { buildScorer } from "../scorers/registry.js"
import { benchResult, report } from "./result.js"
import { benchClassifierDir, benchTexts } from "./score/model.js"
import { startOrtClassify } from "./score/ortPython.js"

const TOKENS = 128
const BATCH = 16

const log = (line: string) => process.stderr.write(`${line}\n`)
const option = (args: string[], name: string, fallback: number): number => {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}

/**
 * `npm run bench -- score`: the classifier scorer (tokenization, length bucketing, the inference
 * thread and ONNX Runtime) against a plain ONNX Runtime for Python batch loop given the same
 * token ids, on the same model file, batch size and thread count, plus winnow's classifier
 * session called in process. After a warm-up the three take turns, repetition by repetition, so
 * each sees the same load on a shared machine; each reports rows/s of its fastest repetition.
 * Options: `--threads N` (default all cores), `--rows N` (512), `--reps N` (5).
 */
export const main = async (args: string[]): Promise<void> => {
  const threads = option(args, "--threads", availableParallelism())
  const count = option(args, "--rows", 512)
  const reps = option(args, "--reps", 5)
  const dir = benchClassifierDir()
  const model = readModelDir(dir, "model", "bench")
  const texts = benchTexts(count, TOKENS)
  log(`model ${dir}: ${count} rows of ${TOKENS} tokens, batch ${BATCH}, ${threads} threads, ${reps} interleaved repetitions`)

  const spec = Result.getOrThrow(decodeSpec({
    name: "bench", prompts: "p", generator: { model: "m" }, output: { dataset: "d" },
    scorers: [{ name: "rm", type: "classifier", model: dir, template: "{response}", max_length: TOKENS, batch_size: BATCH }]
  }, "bench")).scorers[0] as ScorerSpec
  const inputs: ScoreInput[] = texts.map(({ text }) => ({ prompt: "", messages: [], response: text }))
  const runtime = ManagedRuntime.make(InferencePool.layer(poolWithThreads(1, undefined, threads)))
  const scorer = buildScorer(spec, await runtime.runPromise(Effect.gen(function* () { return yield* InferencePool })), "scorers[0]")
  const session = await ClassifierSession.load(dir, "model", { intraOpThreads: threads })
  const request = { texts: texts.map((t) => t.text), maxLength: TOKENS, batchSize: BATCH, field: "bench" }
  const pad = tokenIdList(model.config.pad_token_id)[0] ?? 0
  const python = await startOrtClassify({ model: model.weightsPath, threads, batch_size: BATCH, pad_id: pad, rows: texts.map((t) => t.ids) }, log)

  const timed = async <T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> => {
    const began = performance.now()
    const value = await run()
    return { seconds: (performance.now() - began) / 1000, value }
  }
  const scoreAll = () => runtime.runPromise(scorer.score(inputs))
  await scoreAll()
  await session.classify(request)
  const seconds = { ours: [] as number[], direct: [] as number[], python: [] as number[] }
  let checksums = { ours: 0, python: 0 }
  for (let i = 0; i < reps; i++) {
    const ours = await timed(scoreAll)
    const direct = await timed(() => session.classify(request))
    const peer = await python.rep()
    seconds.ours.push(ours.seconds)
    seconds.direct.push(direct.seconds)
    seconds.python.push(peer.seconds)
    checksums = { ours: ours.value.values.reduce((a, b) => a + b, 0), python: peer.checksum }
    log(`rep ${i + 1}: scorer ${ours.seconds.toFixed(3)} s, session ${direct.seconds.toFixed(3)} s, python ${peer.seconds.toFixed(3)} s`)
  }
  await python.close()
  await session.close()
  await runtime.dispose()
  const drift = Math.abs(checksums.ours - checksums.python) / Math.max(1, Math.abs(checksums.python))
  if (drift > 1e-3) throw new Error(`the peers disagree: sum of scores ${checksums.ours} vs ${checksums.python}`)

  const rate = (xs: readonly number[]) => count / Math.min(...xs)
  report(
    [benchResult(`classifier session in process, ${TOKENS} tokens, batch ${BATCH} vs onnxruntime-python`, rate(seconds.direct), rate(seconds.python), "rows/s")],
    benchResult(`classifier scorer (3.3M params, ${TOKENS} tokens, batch ${BATCH}) vs onnxruntime-python`, rate(seconds.ours), rate(seconds.python), "rows/s")
  )
}
