import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { pino } from "pino"
import { parse, stringify } from "yaml"
import { startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import { repoRoot, spawnWorkerProcess, untilAttemptStarts, untilPolling, untilRunning, type WorkerProcess } from "../tests/support/faults.js"
import { startDevServer } from "../worker/devServer.js"
import { ensureTemporalCli } from "../worker/temporalCli.js"
import type { BenchResult } from "./result.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

const option = (args: ReadonlyArray<string>, name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(args[at + 1])
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The demo campaign as one shard of ten prompts, 64 samples each: a generate activity of several seconds. */
const writeSpec = async (dir: string): Promise<string> => {
  const spec = parse(await readFile(join(repoRoot, "examples/demo.yaml"), "utf8"))
  spec.prompts = join(repoRoot, "examples", spec.prompts)
  spec.generator.model = join(repoRoot, "examples", spec.generator.model)
  for (const scorer of spec.scorers) if (scorer.model) scorer.model = join(repoRoot, "examples", scorer.model)
  spec.rounds = 1
  spec.generator.n = 64
  spec.sharding = { prompts_per_shard: 10, max_concurrent_shards: 1 }
  const path = join(dir, "recovery.yaml")
  await writeFile(path, stringify(spec))
  return path
}

/** One measurement: which setting, and how long the killed worker's generate waited before it ran again. */
interface Trial {
  readonly setting: string
  readonly heartbeat: string
  readonly repetition: number
  readonly seconds: number
  readonly attempt: number
}

/**
 * One trial: two workers poll a fresh queue; a campaign starts; as soon as its generate activity
 * runs, the worker running it is SIGKILLed; the time until the next attempt of that activity
 * starts on the other worker (Temporal's start time of that attempt) is the recovery time.
 */
const trial = async (client: Client, address: string, home: string, spec: string, env: Record<string, string>, queue: string, timeoutMs: number) => {
  const workers: WorkerProcess[] = [0, 1].map(() => spawnWorkerProcess({ address, queue, home, env }))
  try {
    await untilPolling(client, queue, workers.map((w) => w.identity))
    const handle = await startCampaign(client, queue, loadSpecFile(spec))
    const running = await untilRunning(client, handle.workflowId, (a) => a.type === "generate")
    const victim = workers.find((w) => w.identity === running.worker)!
    const killedAt = Date.now()
    await victim.kill()
    const next = await untilAttemptStarts(client, running.workflowId, running.activityId, running.attempt + 1, timeoutMs, 250)
    if (next.worker === victim.identity) throw new Error("the next attempt ran on the killed worker")
    await handle.terminate("recovery measured")
    return { seconds: (next.startedAt - killedAt) / 1000, attempt: next.attempt }
  } finally {
    await Promise.all(workers.map((w) => w.kill()))
  }
}

/**
 * `npm run bench -- recovery [--repetitions 3] [--before 120]`: the time from SIGKILL of a
 * `winnow worker` running a generate activity to that activity's next attempt starting on a second
 * worker already polling, on a Temporal dev server of its own. "after" runs with the heartbeat
 * timeout of `workflows/profiles.ts` (10 s); "before" with the old one (2 minutes for inference
 * activities until a973a6c), set through `WINNOW_HEARTBEAT_TIMEOUT_SECONDS`. The kill lands within
 * a fraction of a second of the activity's start, before its first heartbeat: the longest wait a
 * setting gives. Prints a table to stderr and the medians as the final line, ours = after, peer =
 * before, ratio = ours / peer (the share of the old wait that is left; lower is better).
 */
export async function main(args: string[]): Promise<void> {
  const repetitions = option(args, "repetitions", 3)
  const before = option(args, "before", 120)
  const work = await mkdtemp(join(tmpdir(), "winnow-bench-recovery-"))
  const logger = pino({ level: "warn" }, pino.destination(2))
  const server = await startDevServer({ cliPath: await ensureTemporalCli(logger), dbFile: join(work, "temporal.db"), ui: false, log: logger })
  const client = new Client({ connection: await Connection.connect({ address: server.address }) })
  try {
    const spec = await writeSpec(work)
    const settings: ReadonlyArray<{ setting: string; heartbeat: string; env: Record<string, string>; timeoutMs: number }> = [
      { setting: "after", heartbeat: "10 s (default)", env: {}, timeoutMs: 120_000 },
      { setting: "before", heartbeat: `${before} s`, env: { WINNOW_HEARTBEAT_TIMEOUT_SECONDS: String(before) }, timeoutMs: (before + 120) * 1000 }
    ]
    const trials: Trial[] = []
    for (const s of settings) {
      for (let repetition = 1; repetition <= repetitions; repetition++) {
        log(`${s.setting} (heartbeat timeout ${s.heartbeat}) ${repetition}/${repetitions}`)
        const measured = await trial(client, server.address, join(work, `home-${s.setting}-${repetition}`), spec, s.env, `recovery-${s.setting}-${repetition}`, s.timeoutMs)
        log(`  generate ran again (attempt ${measured.attempt}) ${measured.seconds.toFixed(1)} s after the kill`)
        trials.push({ setting: s.setting, heartbeat: s.heartbeat, repetition, ...measured })
      }
    }
    log("\n| setting | heartbeat timeout | repetition | SIGKILL → next attempt started |")
    log("| --- | --- | --- | --- |")
    for (const t of trials) log(`| ${t.setting} | ${t.heartbeat} | ${t.repetition} | ${t.seconds.toFixed(1)} s |`)
    const ours = median(trials.filter((t) => t.setting === "after").map((t) => t.seconds))
    const peer = median(trials.filter((t) => t.setting === "before").map((t) => t.seconds))
    log(`\nmedian: after ${ours.toFixed(1)} s, before ${peer.toFixed(1)} s (goal: after ≤ 15 s)`)
    const round = (x: number) => Math.round(x * 1000) / 1000
    const headline: BenchResult = { name: "recovery", ours: round(ours), peer: round(peer), ratio: round(ours / peer), unit: "s" }
    process.stdout.write(`${JSON.stringify(headline)}\n`)
  } finally {
    await client.connection.close()
    await server.stop()
    if (!args.includes("--keep")) await rm(work, { recursive: true, force: true })
    else log(`kept ${work}`)
  }
}
