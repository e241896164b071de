import { type BenchSettings, benchSettings } from "./settings.js"
import { execFileSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { pino } from "pino"
import { startDevServer } from "../worker/devServer.js"
import { ensureTemporalCli } from "../worker/temporalCli.js"
import { type CampaignRun, type Cluster, runCampaign } from "./engine/ours.js"
import { ensureDistilabel, type PeerRun, runPeer } from "./engine/peer.js"
import { writeBenchPrompts } from "./engine/prompts.js"
import { type Sharding, writeEchoSpec, writeTinyModelSpec } from "./engine/specs.js"
import { activityTotals, engineShare } from "./engine/timeline.js"
import { type BenchResult, benchResult } from "./result.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

/** What the benchmark runs; every number can be set with `--name value` (lists as `1,2,3`). */
const SETTINGS = {
  /** The headline size, and the other sizes measured at the headline worker count. */
  prompts: 100_000,
  scale_prompts: "10000",
  n: 4,
  max_new_tokens: 128,
  /** Worker processes of the headline run, and the counts the scaling runs use at the headline size. */
  workers: 2,
  scale_workers: "1,2,3",
  prompts_per_shard: 5000,
  /** Shards in flight per worker process. */
  shards_per_worker: 2,
  /** distilabel's batch size (loader, generation and selection steps). */
  peer_batch: 1000,
  /**
   * The tiny-model campaign: prompts, samples, tokens (the spec's default 128), prompts per shard
   * (all shards in one window: one worker's four in flight), shards in flight; 0 prompts skips it.
   */
  tiny_prompts: 2000,
  tiny_n: 4,
  tiny_max_new_tokens: 128,
  tiny_prompts_per_shard: 500,
  tiny_shards: 4,
  tiny_threads: 2,
  /** 0 skips distilabel (a run of winnow alone, e.g. while profiling); the headline then has no peer. */
  peer: 1
}
type Settings = BenchSettings<typeof SETTINGS>

const settingsOf = (args: readonly string[]): Settings => benchSettings(SETTINGS, args)

const listOf = (text: string): number[] => (text.trim() === "" ? [] : text.split(",").map(Number))
const loadNow = (): string => loadavg().map((x) => x.toFixed(2)).join(" ")
const fixed = (x: number, digits = 1) => x.toFixed(digits)

/** One measured run of either side, as a row of the report. */
interface Row {
  readonly side: "winnow" | "distilabel"
  readonly prompts: number
  readonly workers: number | null
  readonly samples: number
  readonly seconds: number
  readonly samplesPerSecond: number
  /** CPU seconds of every process of the side (workers and Temporal server; distilabel's processes). */
  readonly cpuSeconds: number
  readonly load: string
  readonly detail: string
}

const oursRow = (run: CampaignRun, prompts: number, n: number, workers: number, load: string): Row => {
  const totals = activityTotals(run.timeline)
  const share = engineShare(run.timeline)
  const parts = ["prepare", "generate", "score", "select", "stage", "roundStats", "commit"].filter((t) => totals[t])
    .map((t) => `${t} ${fixed(totals[t]!.coveredSeconds)} s`)
  return {
    side: "winnow", prompts, workers, samples: run.result.generated, seconds: run.seconds, samplesPerSecond: prompts * n / run.seconds, load,
    cpuSeconds: run.cpu.workers + run.cpu.server,
    detail: `CPU: workers ${fixed(run.cpu.workers)} s, Temporal server ${fixed(run.cpu.server)} s; ${run.timeline.shards} shards; time with an activity running, by kind: ${parts.join(", ")}; with no generate or score running ${fixed(share.share * 100)} %`
  }
}

const peerRow = (run: PeerRun, prompts: number, load: string): Row => ({
  side: "distilabel", prompts, workers: null, samples: run.samples, seconds: run.seconds, samplesPerSecond: run.samples / run.seconds, load, cpuSeconds: run.cpu_seconds,
  detail: `pipeline ${fixed(run.pipeline_seconds)} s, save_to_disk ${fixed(run.seconds - run.pipeline_seconds)} s, ${run.rows} rows`
})

/**
 * `npm run bench -- engine [--prompts 100000] [--workers 2] [--scale-workers 1,2,3] [--scale-prompts 10000] [--tiny-prompts 2000] [--keep]`:
 * the engine's own throughput, with a generator that costs nothing. winnow runs an echo-backend
 * campaign (N samples per prompt, heuristic quality scorer, best-of-N, commit with dedup) through a
 * Temporal dev server of its own and `winnow worker` processes sharing one store; distilabel runs
 * its pipeline over the same prompts with a do-nothing LLM answering the same text, best-of-N on
 * the same heuristic, and saves its dataset to disk. Both at the headline size, side by side; then
 * winnow alone at other worker counts and prompt counts, and a tiny-model campaign for the share of
 * wall time outside generation and scoring. Last line: winnow vs distilabel samples/s at `prompts`.
 */
export async function main(args: string[]): Promise<void> {
  const s = settingsOf(args)
  const work = await mkdtemp(join(tmpdir(), "winnow-bench-engine-"))
  const logger = pino({ level: "warn" }, pino.destination(2))
  log(`load average at start: ${loadNow()} (uptime: ${execFileSync("uptime").toString().trim()})`)
  const sizes = [s.prompts, ...listOf(s.scale_prompts).filter((p) => p !== s.prompts)]
  const promptFiles = new Map(sizes.map((count) => [count, join(work, `prompts-${count}.jsonl`)]))
  for (const [count, path] of promptFiles) writeBenchPrompts(path, count)
  const python = s.peer ? await ensureDistilabel(log) : ""
  const server = await startDevServer({ cliPath: await ensureTemporalCli(logger), dbFile: join(work, "temporal.db"), ui: false, log: logger })
  const cluster: Cluster = { address: server.address, serverPid: server.pid, client: new Client({ connection: await Connection.connect({ address: server.address }) }) }
  const rows: Row[] = []
  const sharding = (prompts: number, workers: number): Sharding => ({
    prompts_per_shard: Math.min(s.prompts_per_shard, Math.ceil(prompts / (workers * s.shards_per_worker))),
    max_concurrent_shards: workers * s.shards_per_worker
  })
  let run = 0
  const ours = async (prompts: number, workers: number): Promise<Row> => {
    const name = `engine-${prompts}-w${workers}-${++run}`
    const spec = writeEchoSpec(work, name, promptFiles.get(prompts)!, s.n, s.max_new_tokens, sharding(prompts, workers))
    log(`winnow: ${prompts} prompts × ${s.n}, ${workers} worker(s), ${JSON.stringify(sharding(prompts, workers))}`)
    const load = loadNow()
    const row = oursRow(await runCampaign(cluster, { dir: work, name, specPath: spec, workers }), prompts, s.n, workers, load)
    log(`  ${fixed(row.seconds)} s, ${fixed(row.samplesPerSecond, 0)} samples/s, ${fixed(row.cpuSeconds)} CPU s; ${row.detail}`)
    rows.push(row)
    return row
  }
  const peer = async (prompts: number): Promise<Row> => {
    log(`distilabel: ${prompts} prompts × ${s.n}, batch ${s.peer_batch}`)
    const load = loadNow()
    const row = peerRow(await runPeer(python, promptFiles.get(prompts)!, s.n, join(work, `peer-${prompts}`), s.max_new_tokens, s.peer_batch), prompts, load)
    log(`  ${fixed(row.seconds)} s, ${fixed(row.samplesPerSecond, 0)} samples/s, ${fixed(row.cpuSeconds)} CPU s; ${row.detail}`)
    await rm(join(work, `peer-${prompts}`), { recursive: true, force: true })
    rows.push(row)
    return row
  }
  const details: BenchResult[] = []
  let headline: BenchResult
  try {
    const headOurs = await ours(s.prompts, s.workers)
    const headPeer = s.peer ? await peer(s.prompts) : undefined
    headline = benchResult("engine", headOurs.samplesPerSecond, headPeer?.samplesPerSecond ?? Number.NaN, "samples/s")
    for (const prompts of sizes.filter((p) => p !== s.prompts)) {
      const a = await ours(prompts, s.workers)
      const b = s.peer ? await peer(prompts) : undefined
      details.push(benchResult(`engine ${prompts} prompts`, a.samplesPerSecond, b?.samplesPerSecond ?? Number.NaN, "samples/s"))
    }
    for (const workers of listOf(s.scale_workers).filter((w) => w !== s.workers)) {
      const a = await ours(s.prompts, workers)
      details.push(benchResult(`engine ${s.prompts} prompts, ${workers} worker(s) vs distilabel at ${s.prompts}`, a.samplesPerSecond, headPeer?.samplesPerSecond ?? Number.NaN, "samples/s"))
    }
    if (s.tiny_prompts > 0) {
      const tinyPrompts = join(work, `tiny-prompts.jsonl`)
      writeBenchPrompts(tinyPrompts, s.tiny_prompts)
      const tinySharding = { prompts_per_shard: s.tiny_prompts_per_shard, max_concurrent_shards: s.tiny_shards }
      const spec = writeTinyModelSpec(work, "tiny", tinyPrompts, s.tiny_n, s.tiny_max_new_tokens, tinySharding)
      log(`tiny-model campaign: ${s.tiny_prompts} prompts × ${s.tiny_n}, up to ${s.tiny_max_new_tokens} tokens, 1 worker with ${s.tiny_threads} inference threads, ${JSON.stringify(tinySharding)}`)
      const load = loadNow()
      const tiny = await runCampaign(cluster, { dir: work, name: "tiny", specPath: spec, workers: 1, threads: s.tiny_threads })
      const share = engineShare(tiny.timeline)
      const totals = activityTotals(tiny.timeline)
      log(`  ${fixed(tiny.seconds)} s end to end (load ${load}); history wall ${fixed(share.wallSeconds)} s, generate or score running ${fixed(share.modelSeconds)} s;`)
      log(`  engine share (no generate or score running) ${fixed(share.share * 100, 2)} % (goal ≤ 5 %); other activities' summed run time ${fixed(share.otherActivitySeconds)} s = ${fixed(share.otherActivityShare * 100, 2)} % of the wall`)
      log(`  by kind (covered seconds): ${Object.entries(totals).map(([t, v]) => `${t} ${fixed(v.coveredSeconds, 2)}`).join(", ")}`)
      details.push({ name: "engine overhead, tiny-model campaign (share of wall time with no generate or score running; lower is better)", ours: Math.round(share.share * 10000) / 10000, peer: 0.05, ratio: Math.round((0.05 / Math.max(share.share, 1e-6)) * 1000) / 1000, unit: "share" })
    }
  } finally {
    await cluster.client.connection.close()
    await server.stop()
    if (!args.includes("--keep")) await rm(work, { recursive: true, force: true })
    else log(`kept ${work}`)
  }
  log("\n| side | prompts | workers | samples | seconds | samples/s | CPU s | load (1, 5, 15 min) | notes |")
  log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
  for (const r of rows) log(`| ${r.side} | ${r.prompts} | ${r.workers ?? "–"} | ${r.samples} | ${fixed(r.seconds)} | ${fixed(r.samplesPerSecond, 0)} | ${fixed(r.cpuSeconds)} | ${r.load} | ${r.detail} |`)
  log(`\nload average at end: ${loadNow()}`)
  for (const d of details) process.stdout.write(`${JSON.stringify(d)}\n`)
  process.stdout.write(`${JSON.stringify(headline)}\n`)
}
