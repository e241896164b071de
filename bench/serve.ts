import { availableParallelism } from "node:os"
import { benchResult, report } from "./result.js"
import { benchModelDir } from "./generate/model.js"
import { type ArrivalFigures, compareArrivals } from "./serve/arrivals.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

/** The workload: 32 clients arriving over 10 s, max_tokens mixed 32–256. */
const PLAN = { clients: 32, spreadSeconds: 10, maxTokens: [32, 256, 64, 128] }

/**
 * `npm run bench -- serve`: `winnow serve` with continuous batching (ours: a request that arrives
 * while a batch decodes joins it at the next step) against the same server with static batching
 * (the peer: what `winnow serve` did before, requests wait for the running batch to end), on the
 * bench model with the same threads: 32 streamed clients arriving over 10 s with mixed max_tokens.
 * Prints mean time to first token, time to last token and mean latency, each the median of
 * `--rounds` (default 3) rounds, the two servers taking turns; the headline is mean time to first
 * token. Options: `--threads N` inference threads (default 1, as `winnow serve`), `--rounds N`.
 */
export const main = async (args: string[]): Promise<void> => {
  const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
  const threads = option("--threads", 1)
  const rounds = option("--rounds", 3)
  const dir = benchModelDir()
  log(`model ${dir}; ${threads} inference thread(s) over ${availableParallelism()} cores; ${PLAN.clients} clients over ${PLAN.spreadSeconds} s`)
  const figures = await compareArrivals(dir, threads, availableParallelism(), ["continuous", "static"], PLAN, rounds, log)
  const median = (mode: "continuous" | "static", key: keyof ArrivalFigures) => {
    const xs = figures.get(mode)!.map((f) => f[key]).sort((a, b) => a - b)
    return xs[Math.floor(xs.length / 2)]!
  }
  const line = (key: keyof ArrivalFigures, name: string) => benchResult(`serve ${name}, continuous vs static batching, ${PLAN.clients} clients over ${PLAN.spreadSeconds} s`, median("continuous", key), median("static", key), "s", true)
  report([line("lastToken", "time to last token"), line("meanLatency", "mean request latency")], line("meanTtft", "mean time to first token"))
}
