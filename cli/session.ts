import { rmSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import type { Logger } from "pino"
import { TemporalUnavailable } from "../core/errors.js"
import { defaultPoolOptions } from "../models/inferencePool.js"
import { type DevServer, startDevServer } from "../worker/devServer.js"
import { ensureTemporalCli } from "../worker/temporalCli.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import type { CliConfig } from "./config.js"
import { claimHomeDbWithin, type DbClaim, servingDev } from "./homeServer.js"

/** A Temporal client plus whatever the CLI started to serve it; `close` stops those. */
export interface Session {
  readonly client: Client
  readonly address: string
  /** The task queue campaigns go to (a running `winnow dev` decides its own). */
  readonly taskQueue: string
  readonly embedded: boolean
  close(): Promise<void>
}

/** Connects a client, turning connection failures into a message that says what to do. */
export const connectClient = async (address: string, namespace: string): Promise<Client> => {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5000 })
    await connection.workflowService.getSystemInfo({})
    return new Client({ connection, namespace })
  } catch (e) {
    throw new TemporalUnavailable({
      reason: `cannot reach the Temporal server at ${address}: ${(e as Error).message}`,
      remedy: "start one with `winnow dev`, or unset TEMPORAL_ADDRESS to let winnow run an embedded server"
    })
  }
}

/**
 * How a command uses Temporal. `run`: an external server, else `winnow dev`'s, else an embedded
 * server on the home's database with an in-process worker. `start`: an external server or
 * `winnow dev`'s (a worker must outlive the command). `attach`: any live server of this home.
 * `inspect`: like `attach`, else a read-only server on the home's database (no worker), so finished
 * campaigns stay visible.
 */
export type SessionMode = "run" | "start" | "attach" | "inspect"

const external = (client: Client, address: string, taskQueue: string): Session =>
  ({ client, address, taskQueue, embedded: false, close: () => client.connection.close() })

/** Opens a client for a command (see `SessionMode`). */
export const openSession = async (config: CliConfig, log: Logger, mode: SessionMode): Promise<Session> => {
  if (config.address) return external(await connectClient(config.address, config.namespace), config.address, config.taskQueue)
  const live = await servingDev(config.home)
  const usable = live && (mode === "attach" || mode === "inspect" || (live.kind ?? "dev") === "dev")
  if (live && usable) return external(await connectClient(live.address, config.namespace), live.address, live.taskQueue || config.taskQueue)
  if (mode === "start" || mode === "attach") {
    throw new TemporalUnavailable({
      reason: live ? `this home's Temporal server (pid ${live.pid}) belongs to an embedded \`winnow run\`, which stops with it` : "no Temporal server: TEMPORAL_ADDRESS is unset and no `winnow dev` is running",
      remedy: "start `winnow dev` in another terminal, or set TEMPORAL_ADDRESS"
    })
  }
  const cli = await ensureTemporalCli(log)
  const claim = await claimHomeDbWithin(config.home, mode === "run" ? "embedded" : "inspect", 10_000)
  if (!claim && mode === "inspect") throw new TemporalUnavailable({ reason: "another process is starting this home's Temporal server", remedy: "try again in a few seconds" })
  const db = claim ?? privateDb(config.home)
  let server: DevServer
  try {
    server = await startDevServer({ cliPath: cli, dbFile: db.file, ui: false, log })
  } catch (e) {
    db.release()
    throw e
  }
  db.publish({ address: server.address, uiUrl: undefined, taskQueue: config.taskQueue })
  const stopServer = async () => {
    await server.stop()
    db.release()
  }
  let worker: RunningWorker | undefined
  try {
    if (mode === "run") {
      const { startWorker } = await import("../worker/temporalWorker.js")
      worker = await startWorker({ address: server.address, namespace: config.namespace, taskQueue: config.taskQueue, home: config.home, store: config.store, pool: defaultPoolOptions(config.modelMemoryBytes), logger: log })
    }
    const client = await connectClient(server.address, config.namespace)
    return {
      client,
      address: server.address,
      taskQueue: config.taskQueue,
      embedded: true,
      close: async () => {
        await client.connection.close()
        await worker?.shutdown()
        await stopServer()
      }
    }
  } catch (e) {
    await worker?.shutdown()
    await stopServer()
    throw e
  }
}

/**
 * A throw-away database for an embedded run while another embedded run serves the home's one: two
 * runs never share a SQLite file through two servers. Its history goes with it.
 */
const privateDb = (home: string): DbClaim => {
  const file = join(home, "temporal", `embedded-${process.pid}.db`)
  return { file, publish: () => undefined, release: () => rmSync(file, { force: true }) }
}

/** Runs `use` with a session and always closes it (the scope of one CLI command). */
export const withSession = async <A>(config: CliConfig, log: Logger, mode: SessionMode, use: (session: Session) => Promise<A>): Promise<A> => {
  const session = await openSession(config, log, mode)
  try {
    return await use(session)
  } finally {
    await session.close()
  }
}
