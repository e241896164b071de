import { spawn } from "node:child_process"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { pino } from "pino"
import { inject } from "vitest"
import { parse, stringify } from "yaml"
import { defaultPoolOptions, poolWithThreads } from "../../models/inferencePool.js"
import { type RunningServe, startServe } from "../../serve/server.js"
import { type DevServer, startDevServer } from "../../worker/devServer.js"
import { type RunningWorker, startWorker } from "../../worker/temporalWorker.js"

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

/** A fresh temporary directory. */
export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `winnow-${prefix}-`))

/** A task queue no other test uses. */
export const uniqueQueue = (name: string): string => `test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`

/** Result of running the CLI as a child process. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command with exactly `env`, killed after `timeoutMs`; never throws on a non-zero exit. */
export const runProcess = (command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })

/** Runs `winnow …` (the built bin) with extra environment; never throws on a non-zero exit. */
export const runCli = (args: string[], env: Record<string, string | undefined>, timeoutMs = 170_000): Promise<CliRun> =>
  runProcess(process.execPath, [join(repoRoot, "bin/winnow.js"), ...args], { ...process.env, WINNOW_LOG_LEVEL: "warn", ...env }, timeoutMs)

/** Environment that points the CLI at the shared test server, a task queue and a winnow home. */
export const clusterEnv = (taskQueue: string, home: string): Record<string, string> => ({
  TEMPORAL_ADDRESS: inject("temporalAddress"),
  WINNOW_TASK_QUEUE: taskQueue,
  WINNOW_HOME: home
})

/** Starts an in-process winnow worker against the shared test server. */
export const startTestWorker = (taskQueue: string, home: string): Promise<RunningWorker> =>
  startWorker({
    address: inject("temporalAddress"),
    namespace: "default",
    taskQueue,
    home,
    pool: defaultPoolOptions(),
    logger: pino({ level: "error" }, pino.destination(2))
  })

/**
 * A Temporal dev server of the test's own (not the shared one) persisting to `dbFile`, on `port`
 * (default: a free one). Use for tests that kill the server and start it again on the same
 * database file and port; stop it after the test.
 */
export const startOwnDevServer = (dbFile: string, port?: number): Promise<DevServer> =>
  startDevServer({ cliPath: inject("temporalCliPath"), dbFile, ...(port !== undefined ? { port } : {}), ui: false, log: pino({ level: "warn" }, pino.destination(2)) })

/** SIGKILLs a dev server started by `startOwnDevServer` (no shutdown, as a crash) and waits until it is gone. */
export const killDevServer = async (server: DevServer): Promise<void> => {
  process.kill(server.pid, "SIGKILL")
  await server.stop()
}

/** A winnow worker on a task queue of its own with its own WINNOW_HOME, and the CLI environment that reaches it. */
export interface TestCluster {
  readonly home: string
  readonly env: Record<string, string>
  readonly worker: RunningWorker
}

/** Starts a `TestCluster` named `name` (home and queue are fresh); shut `worker` down after the tests. */
export const startTestCluster = async (name: string): Promise<TestCluster> => {
  const home = tempDir(name)
  const queue = uniqueQueue(name)
  return { home, env: clusterEnv(queue, home), worker: await startTestWorker(queue, home) }
}

/** `winnow serve` in process over the bundled tiny chat model, one inference thread, on a free port. */
export const startTinyChatServe = (): Promise<RunningServe> =>
  startServe({
    modelDir: join(repoRoot, "examples/models/tiny-chat"),
    name: "tiny-chat",
    host: "127.0.0.1",
    port: 0,
    pool: poolWithThreads(1, undefined, 1),
    defaultMaxTokens: 64
  })

/**
 * Writes a copy of `examples/demo.yaml` with absolute paths to `dir/<name>.yaml`, after `edit`
 * has changed it; returns the path. Use to run variations of the demo campaign in tests.
 */
export const writeDemoSpec = (dir: string, name: string, edit: (spec: Record<string, any>) => void = () => {}): string => {
  const spec = parse(readFileSync(join(repoRoot, "examples/demo.yaml"), "utf8"))
  spec.prompts = join(repoRoot, "examples", spec.prompts)
  spec.generator.model = join(repoRoot, "examples", spec.generator.model)
  for (const scorer of spec.scorers) if (scorer.model) scorer.model = join(repoRoot, "examples", scorer.model)
  edit(spec)
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify(spec))
  return path
}

/** The last line of a command's stdout parsed as JSON (the `--json` contract). */
export const lastJson = (stdout: string): any => JSON.parse(stdout.trim().split("\n").at(-1)!)

/**
 * A proxy in front of an OpenAI-compatible server that answers 429 with `Retry-After: seconds`
 * to every request in the first `windowMs` after the first one, and forwards the rest.
 */
export const startRateLimiter = async (target: string, windowMs: number, seconds: number) => {
  const seen: Array<{ at: number; limited: boolean }> = []
  let first: number | undefined
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (d: Buffer) => chunks.push(d))
    req.on("end", async () => {
      const at = Date.now()
      first ??= at
      const limited = at - first < windowMs
      seen.push({ at, limited })
      if (limited) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": String(seconds) })
        return void res.end(JSON.stringify({ error: { message: "rate limited" } }))
      }
      const reply = await fetch(`${target}${req.url!.replace(/^\/v1/, "")}`, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
      res.writeHead(reply.status, { "content-type": "application/json" })
      res.end(Buffer.from(await reply.arrayBuffer()))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}


/** Polls `probe` every half second until it returns a value; throws after `timeoutMs`. Use to wait for a campaign state. */
export const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 150_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * Pulls a dataset's records (`winnow dataset pull`, SFT JSONL) into `dir` and returns them as
 * sorted JSON lines without `provenance`, which names each run's own campaign and version. Use to
 * compare the records of two campaigns.
 */
export const pulledRecords = async (env: Record<string, string>, dataset: string, dir: string): Promise<string[]> => {
  const out = join(dir, `${dataset}.jsonl`)
  const pull = await runCli(["dataset", "pull", dataset, "--out", out], env)
  if (pull.code !== 0) throw new Error(`dataset pull ${dataset} exited ${pull.code}: ${pull.stderr}`)
  return readFileSync(out, "utf8").trim().split("\n").map((line) => { const { provenance: _, ...row } = JSON.parse(line); return JSON.stringify(row) }).sort()
}
