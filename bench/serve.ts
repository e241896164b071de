import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { readModelDir } from "../models/modelDir.js"
import { TextTokenizer } from "../models/tokenizer.js"
import { type BenchResult, benchResult, report } from "./result.js"
import { ensureGguf, GGUF_TYPES, type GgufFiles, linkGgufVariants } from "./generate/llamaCpp.js"
import { ensureLlamaCppTools } from "./generate/llamaCppBuild.js"
import { benchModelDir, ropeModelDir } from "./generate/model.js"
import { type ArrivalFigures, type ArrivalPlan, type ArrivalSide, arrivalRequest, compareArrivals, playAlone, withWinnowServers } from "./serve/arrivals.js"
import { completionClient, startLlamaServer, tokenizerAgreement } from "./serve/llamaServer.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

/** The workload: 32 clients arriving over 10 s, max_tokens mixed 32–256 (T 0.8, top-k 50 as first measured). */
const PLAN: ArrivalPlan = { clients: 32, spreadSeconds: 10, maxTokens: [32, 256, 64, 128], temperature: 0.8, topK: 50 }
/** The same workload against llama.cpp's server, with the sampling of the other llama.cpp benches. */
const LLAMA_PLAN: ArrivalPlan = { ...PLAN, temperature: 1 }
const WORKLOAD = `${PLAN.clients} clients over ${PLAN.spreadSeconds} s`

const median = (runs: readonly ArrivalFigures[], key: keyof ArrivalFigures): number => {
  const xs = runs.map((f) => f[key]).sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)]!
}

/** The three timing lines of ours against a peer (medians of the rounds; seconds, lower is better). */
const timingLines = (ours: readonly ArrivalFigures[], peer: readonly ArrivalFigures[], label: string): BenchResult[] =>
  ([["meanTtft", "mean time to first token"], ["lastToken", "time to last token"], ["meanLatency", "mean request latency"]] as const).map(([key, name]) =>
    benchResult(`serve ${name}, ${label}, ${WORKLOAD}`, median(ours, key), median(peer, key), "s", true))

/**
 * `npm run bench -- serve`: `winnow serve` with continuous batching (ours: a request that arrives
 * while a batch decodes joins it at the next step) against the same server with static batching
 * (the peer: what `winnow serve` did before, requests wait for the running batch to end), on the
 * bench model with the same threads: 32 streamed clients arriving over 10 s with mixed max_tokens.
 * Prints mean time to first token, time to last token and mean latency, each the median of
 * `--rounds` (default 3) rounds, the servers taking turns; the headline is mean time to first
 * token. Options: `--threads N` inference threads (default 1, as `winnow serve`), `--rounds N`,
 * `--llama-cpp` (also llama.cpp's server on the same weights, see `llamaCppServe`),
 * `--skip-static` (with `--llama-cpp`: leave the static-batching server out), `--large` (with
 * `--llama-cpp`: the 0.36 B Qwen2.5-shaped rotary model instead of the bench model's twin),
 * `--ours-gguf` (with `--llama-cpp`: winnow serve runs the same GGUF file through its llama.cpp
 * backend, variant `gguf:<type>`, instead of the ONNX file), `--gguf f32|q8_0|q4_0|q4_k_m` (with
 * `--ours-gguf`: the file both servers load; default f32).
 */
export const main = async (args: string[]): Promise<void> => {
  const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
  const threads = option("--threads", 1)
  const rounds = option("--rounds", 3)
  if (args.includes("--llama-cpp")) {
    const oursGguf = args.includes("--ours-gguf")
    const wanted = args.includes("--gguf") ? args[args.indexOf("--gguf") + 1] : "f32"
    const type = GGUF_TYPES.find((t) => t === wanted)
    if (!type) throw new Error(`--gguf: got ${wanted}, expected one of ${GGUF_TYPES.join(", ")}`)
    if (type !== "f32" && !oursGguf) throw new Error(`--gguf ${type}: needs --ours-gguf (winnow serve's ONNX file is float32; only a GGUF file gives both servers the same weights)`)
    return llamaCppServe({ threads, rounds, withStatic: !args.includes("--skip-static"), large: args.includes("--large"), oursGguf, type })
  }
  const dir = benchModelDir()
  log(`model ${dir}; ${threads} inference thread(s) over ${availableParallelism()} cores; ${WORKLOAD}`)
  const figures = await withWinnowServers(dir, threads, availableParallelism(), ["continuous", "static"], (sides) => compareArrivals(sides, PLAN, rounds, log))
  const [ttft, ...rest] = timingLines(figures.get("continuous")!, figures.get("static")!, "continuous vs static batching")
  report(rest, ttft!)
}

/** What `serve --llama-cpp` compares: threads, rounds, whether static batching runs too, the model, and what ours runs. */
interface LlamaCppServeOptions {
  readonly threads: number
  readonly rounds: number
  readonly withStatic: boolean
  readonly large: boolean
  readonly oursGguf: boolean
  readonly type: keyof GgufFiles
}

/**
 * `npm run bench -- serve --llama-cpp`: the same 32 arriving clients against `winnow serve`
 * (continuous batching, and static unless `withStatic` is false) and llama.cpp's `llama-server`
 * (built from the sources of node-llama-cpp's release, `ensureLlamaCppTools`) on a GGUF file of
 * the same model (F32 unless `type` says otherwise): the bench model's rotary twin, whose ONNX file
 * winnow serve loads, or with `oursGguf` the same GGUF file (the bench model itself has no GGUF
 * equivalent). llama-server gets one slot per client, continuous batching and the same
 * threads (`-t`, `-tb`); it is sent the very token ids winnow serve makes of each chat message
 * (checked against its own tokenizer once), and both report the prompt and generated tokens they
 * saw, which the log compares. Sampling T 1, top-k 50 on both; rows end at EOS or max_tokens.
 * Then each request alone, one after another, on winnow serve and llama-server (what a request
 * costs without company). The headline is mean time to first token against llama.cpp's server.
 */
const llamaCppServe = async ({ threads, rounds, withStatic, large, oursGguf, type }: LlamaCppServeOptions): Promise<void> => {
  const dir = ropeModelDir(large)
  const model = `${type.toUpperCase()} ${large ? "0.36B Qwen2.5-shape rotary model" : "rotary twin"}${oursGguf ? ", ours on the GGUF file through winnow's llama.cpp backend" : ""}`
  const tools = await ensureLlamaCppTools(log)
  const ggufs = await ensureGguf(dir, tools, log)
  const gguf = ggufs[type]
  if (oursGguf) linkGgufVariants(dir, ggufs)
  const tokenizer = TextTokenizer.load(readModelDir(dir, "model", "bench"))
  const rendered = (content: string) => tokenizer.renderChat([{ role: "user", content }], true)
  const promptIds = (content: string) => tokenizer.encode(rendered(content))
  const requests = Array.from({ length: LLAMA_PLAN.clients }, (_, i) => arrivalRequest(LLAMA_PLAN, i, 0))
  const promptLengths = await Promise.all(requests.map((r) => promptIds(r.content).then((ids) => ids.length)))
  const contextPerSlot = Math.ceil((Math.max(...promptLengths) + Math.max(...LLAMA_PLAN.maxTokens) + 1) / 64) * 64
  log(`model ${dir} / ${gguf}; ${threads} inference thread(s) over ${availableParallelism()} cores; ${WORKLOAD}; prompts of ${Math.min(...promptLengths)}–${Math.max(...promptLengths)} tokens (${promptLengths.reduce((a, b) => a + b, 0)} in all)`)
  const peerName = `llama.cpp server (llama-server ${tools.release}, ${LLAMA_PLAN.clients} slots)`
  const llama = await startLlamaServer(tools.server, gguf, { threads, parallel: LLAMA_PLAN.clients, contextPerSlot, logFile: join(tmpdir(), `winnow-bench-llama-server-${process.pid}.log`) }, log)
  try {
    const agree = await tokenizerAgreement(llama.url, requests.map((r) => rendered(r.content)), (text) => tokenizer.encode(text))
    log(`llama-server's tokenizer gives winnow's ids for ${agree} of ${requests.length} rendered prompts`)
    const modes = withStatic ? (["continuous", "static"] as const) : (["continuous"] as const)
    const alone = new Map<string, ArrivalFigures>()
    const figures = await withWinnowServers(dir, threads, availableParallelism(), modes, async (winnow) => {
      const sides: ArrivalSide[] = [...winnow, { name: peerName, client: completionClient(llama.url, promptIds) }]
      const arrivals = await compareArrivals(sides, LLAMA_PLAN, rounds, log)
      for (const side of sides.filter((s) => s.name !== "static")) {
        alone.set(side.name, await playAlone(side.client, LLAMA_PLAN, 1))
        log(`serve ${side.name}, each request alone: ${JSON.stringify(alone.get(side.name))}`)
      }
      return arrivals
    }, oursGguf ? `gguf:${type}` : undefined)
    const ours = figures.get("continuous")!
    const peer = figures.get(peerName)!
    for (const [name, runs] of figures) {
      log(`${name}: prompt tokens per round ${runs.map((r) => r.promptTokens).join(", ")}; generated ${runs.map((r) => r.completionTokens).join(", ")}; rows ending at EOS ${runs.map((r) => r.eosStops).join(", ")} of ${LLAMA_PLAN.clients}`)
    }
    const label = `winnow serve (continuous batching) vs ${peerName}, ${model}, T 1`
    const [ttft, ...timing] = timingLines(ours, peer, label)
    const tpot = benchResult(`serve time per output token after the first (all requests pooled), ${label}, ${WORKLOAD}`, median(ours, "secondsPerToken") * 1000, median(peer, "secondsPerToken") * 1000, "ms", true)
    const staticLines = withStatic ? timingLines(ours, figures.get("static")!, `continuous vs static batching, ${model}, T 1`) : []
    const [aloneOurs, alonePeer] = [alone.get("continuous")!, alone.get(peerName)!]
    const aloneLines = [
      benchResult(`serve mean time to first token of each request alone, winnow serve vs ${peerName}, ${model}`, aloneOurs.meanTtft, alonePeer.meanTtft, "s", true),
      benchResult(`serve time per output token after the first, each request alone, winnow serve vs ${peerName}, ${model}`, aloneOurs.secondsPerToken * 1000, alonePeer.secondsPerToken * 1000, "ms", true)
    ]
    report([...staticLines, ...aloneLines, ...timing, tpot], ttft!)
  } finally {
    await llama.close()
  }
}
