import type { Logger } from "pino"
import { DEFAULTS } from "../../core/defaults.js"
import { defaultPoolOptions, poolWithThreads } from "../../models/inferencePool.js"
import { type DevServer, startDevServer } from "../../worker/devServer.js"
import { TemporalUnavailable } from "../../core/errors.js"
import { ensureTemporalCli } from "../../worker/temporalCli.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { claimHomeDb, runningDev } from "../homeServer.js"
import { isQueueName } from "../../campaign/queueSpec.js"
import { connectClient } from "../session.js"

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

const queueList = (command: Command, value: unknown): string[] => {
  if (value === undefined) return []
  const names = String(value).split(",").map((q) => q.trim()).filter(Boolean)
  const bad = names.find((q) => !isQueueName(q))
  if (names.length === 0 || bad !== undefined) throw new UsageError(`--queues: got ${JSON.stringify(value)}, expected task queue names (letters, digits, . _ -) separated by commas`, helpOf(command))
  return names
}

/** `winnow worker`: poll a cluster's task queue (TEMPORAL_ADDRESS) until SIGINT/SIGTERM. */
export const workerCommand = (log: Logger): Command => {
  const command: Command = {
    name: "worker",
    summary: "Run a winnow worker against TEMPORAL_ADDRESS (default 127.0.0.1:7233) until interrupted: workflows and activities of its task queue, and activities of the --queues it also serves (a spec's task_queues).",
    usage: "worker [--task-queue <name>] [--queues <name,…>] [--threads <n>]",
    options: { "task-queue": { type: "string" }, queues: { type: "string" }, threads: { type: "string" } },
    positionals: { min: 0, max: 0 },
    run: async (args) => {
      const config = readCliConfig(process.env, args.values["task-queue"] as string | undefined)
      const address = config.address ?? `127.0.0.1:${DEFAULTS.devServer.port}`
      const pool = defaultPoolOptions()
      const threads = intOption(command, "threads", args.values.threads, pool.threads)
      const alsoServe = queueList(command, args.values.queues)
      await connectClient(address, config.namespace).then((c) => c.connection.close())
      const { startWorker } = await import("../../worker/temporalWorker.js")
      const worker = await startWorker({ address, namespace: config.namespace, taskQueue: config.taskQueue, alsoServe, home: config.home, store: config.store, pool: poolWithThreads(threads, config.modelMemoryBytes), logger: log })
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
      const claim = claimHomeDb(config.home, "dev")
      if (!claim) {
        const holder = runningDev(config.home)
        throw new TemporalUnavailable({
          reason: `this home's Temporal database is in use by ${holder?.kind === "dev" || holder?.kind === undefined ? "`winnow dev`" : "an embedded `winnow run`"} (pid ${holder?.pid ?? "?"})`,
          remedy: holder?.kind === "embedded" ? "wait for that run to finish, or use another WINNOW_HOME" : "use the running one, or stop it first"
        })
      }
      let server: DevServer
      try {
        server = await startDevServer({ cliPath, dbFile: claim.file, port, uiPort, ui: true, log })
      } catch (e) {
        claim.release()
        throw e
      }
      const { startWorker } = await import("../../worker/temporalWorker.js")
      const worker = await startWorker({ address: server.address, namespace: config.namespace, taskQueue: config.taskQueue, home: config.home, store: config.store, pool: defaultPoolOptions(config.modelMemoryBytes), logger: log })
      claim.publish({ address: server.address, uiUrl: server.uiUrl, taskQueue: config.taskQueue })
      process.stdout.write(`Temporal server: ${server.address}\nWeb UI:          ${server.uiUrl}\nTask queue:      ${config.taskQueue}\nPress Ctrl+C to stop.\n`)
      await Promise.race([untilSignal(), worker.done])
      await worker.shutdown()
      await server.stop()
      claim.release()
      return 0
    }
  }
  return command
}
