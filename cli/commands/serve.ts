import { writeFileSync, rmSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import type { Logger } from "pino"
import { DEFAULTS } from "../../core/defaults.js"
import { defaultPoolOptions, poolWithThreads } from "../../models/inferencePool.js"
import { startDevServer } from "../../worker/devServer.js"
import { ensureTemporalCli } from "../../worker/temporalCli.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { connectClient, devRecordPath, type DevRecord } from "../session.js"

const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"))
    process.once("SIGTERM", () => resolve("SIGTERM"))
  })

const intOption = (command: Command, name: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${name}: got ${JSON.stringify(value)}, expected a whole number from 1 to 65535`, helpOf(command))
  return n
}

/** `winnow worker`: poll a cluster's task queue (TEMPORAL_ADDRESS) until SIGINT/SIGTERM. */
export const workerCommand = (log: Logger): Command => {
  const command: Command = {
    name: "worker",
    summary: "Run a winnow worker against TEMPORAL_ADDRESS (default 127.0.0.1:7233) until interrupted.",
    usage: "worker [--task-queue <name>] [--threads <n>]",
    options: { "task-queue": { type: "string" }, threads: { type: "string" } },
    positionals: { min: 0, max: 0 },
    run: async (args) => {
      const config = readCliConfig(process.env, args.values["task-queue"] as string | undefined)
      const address = config.address ?? `127.0.0.1:${DEFAULTS.devServer.port}`
      const pool = defaultPoolOptions()
      const threads = intOption(command, "threads", args.values.threads, pool.threads)
      await connectClient(address, config.namespace).then((c) => c.connection.close())
      const { startWorker } = await import("../../worker/temporalWorker.js")
      const worker = await startWorker({ address, namespace: config.namespace, taskQueue: config.taskQueue, home: config.home, pool: poolWithThreads(threads, config.modelMemoryBytes), logger: log })
      const signal = await Promise.race([untilSignal(), worker.done.then(() => undefined)])
      if (signal) log.info({ signal }, "shutting down worker")
      await worker.shutdown()
      return 0
    }
  }
  return command
}

/** `winnow dev`: a local Temporal dev server (SQLite under WINNOW_HOME, Web UI) plus a worker. */
export const devCommand = (log: Logger): Command => {
  const command: Command = {
    name: "dev",
    summary: "Start a local Temporal dev server (SQLite under WINNOW_HOME, Web UI on) and a worker, until interrupted.",
    usage: "dev [--port <n>] [--ui-port <n>] [--task-queue <name>]",
    options: { port: { type: "string" }, "ui-port": { type: "string" }, "task-queue": { type: "string" } },
    positionals: { min: 0, max: 0 },
    run: async (args) => {
      const config = readCliConfig(process.env, args.values["task-queue"] as string | undefined)
      const port = intOption(command, "port", args.values.port, DEFAULTS.devServer.port)
      const uiPort = intOption(command, "ui-port", args.values["ui-port"], DEFAULTS.devServer.uiPort)
      const cliPath = await ensureTemporalCli(log)
      const server = await startDevServer({ cliPath, dbFile: join(config.home, "temporal", "dev.db"), port, uiPort, ui: true, log })
      const { startWorker } = await import("../../worker/temporalWorker.js")
      const worker = await startWorker({ address: server.address, namespace: config.namespace, taskQueue: config.taskQueue, home: config.home, pool: defaultPoolOptions(config.modelMemoryBytes), logger: log })
      const record: DevRecord = { address: server.address, uiUrl: server.uiUrl, pid: process.pid, taskQueue: config.taskQueue }
      const recordPath = devRecordPath(config.home)
      mkdirSync(dirname(recordPath), { recursive: true })
      writeFileSync(recordPath, JSON.stringify(record))
      process.stdout.write(`Temporal server: ${server.address}\nWeb UI:          ${server.uiUrl}\nTask queue:      ${config.taskQueue}\nPress Ctrl+C to stop.\n`)
      await Promise.race([untilSignal(), worker.done])
      rmSync(recordPath, { force: true })
      await worker.shutdown()
      await server.stop()
      return 0
    }
  }
  return command
}
