import { pathToFileURL } from "node:url"
import * as ort from "onnxruntime-node"
import { openSession, tensorMeta } from "../../models/onnxSession.js"

/**
 * What onnxruntime-node charges for handing a decode step's `present` cache back to JavaScript
 * (it copies every output into a fresh buffer; there is no CPU IO binding to write it in place).
 * Run as its own process (`node dist/bench/generate/fetchCostProbe.js MODEL.onnx N PAST [REPS]`):
 * times one decode step of N rows after PAST cached positions, once fetching every output and
 * once only the logits (ONNX Runtime computes `present` either way), alternating, and prints the
 * medians in ms with the size of the cache fetched.
 */
const main = async (): Promise<void> => {
  const [onnxPath, n, past, reps] = process.argv.slice(2)
  const rows = Number(n)
  const cached = Number(past)
  const session = await openSession(onnxPath!, { intraOpThreads: 1 }, false)
  const pastNames = session.inputNames.filter((name) => name.startsWith("past_key_values."))
  const [, heads, , dim] = tensorMeta(session.inputMetadata, pastNames[0]!)!.shape.map(Number) as [number, number, number, number]
  const int64 = (fill: number, dims: number[]) => new ort.Tensor("int64", new BigInt64Array(dims[0]! * dims[1]!).fill(BigInt(fill)), dims)
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(5, [rows, 1]), attention_mask: int64(1, [rows, cached + 1]) }
  if (session.inputNames.includes("position_ids")) feeds.position_ids = int64(cached, [rows, 1])
  for (const name of pastNames) feeds[name] = new ort.Tensor("float32", new Float32Array(rows * heads * cached * dim).fill(0.01), [rows, heads, cached, dim])
  const timed = async (fetches: readonly string[]) => {
    const started = performance.now()
    await session.run(feeds, fetches)
    return performance.now() - started
  }
  const every = { all: [] as number[], logitsOnly: [] as number[] }
  for (let i = 0; i < Number(reps ?? 60) + 5; i++) {
    const all = await timed(session.outputNames)
    const logitsOnly = await timed(["logits"])
    if (i < 5) continue
    every.all.push(all)
    every.logitsOnly.push(logitsOnly)
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
  const [all, logitsOnly] = [median(every.all), median(every.logitsOnly)]
  const presentMiB = (pastNames.length * rows * heads * (cached + 1) * dim * 4) / 2 ** 20
  process.stdout.write(`${JSON.stringify({ rows, past: cached, allMs: all, logitsOnlyMs: logitsOnly, fetchShare: (all - logitsOnly) / all, presentMiB })}\n`)
  await session.release()
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
