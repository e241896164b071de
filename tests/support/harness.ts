import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { pino } from "pino"
import { inject } from "vitest"
import { defaultPoolOptions } from "../../models/inferencePool.js"
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

/** Runs `winnow …` (the built bin) with extra environment; never throws on a non-zero exit. */
export const runCli = (args: string[], env: Record<string, string | undefined>, timeoutMs = 170_000): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), ...args], {
      env: { ...process.env, WINNOW_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
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
    logger: pino({ level: "warn" }, pino.destination(2))
  })
