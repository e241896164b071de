import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import type { Logger } from "pino"
import { TemporalUnavailable } from "../core/errors.js"
import { defaultPoolOptions } from "../models/inferencePool.js"
import { type DevServer, startDevServer } from "../worker/devServer.js"
import { ensureTemporalCli } from "../worker/temporalCli.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import type { CliConfig } from "./config.js"

/** A Temporal client plus whatever the CLI started to serve it; `close` stops those. */
export interface Session {
  readonly client: Client
  readonly address: string
  /** The task queue campaigns go to (a running `winnow dev` decides its own). */
  readonly taskQueue: string
  readonly embedded: boolean
  close(): Promise<void>
}

/** What `winnow dev` records so other commands on this machine can use its server. */
export interface DevRecord {
  readonly address: string
  readonly uiUrl: string | undefined
  readonly pid: number
  readonly taskQueue: string
}

/** Path of the record a running `winnow dev` leaves in the winnow home. */
export const devRecordPath = (home: string): string => join(home, "temporal", "dev.json")

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The running `winnow dev` of this home, if any. */
export const runningDev = (home: string): DevRecord | undefined => {
  const path = devRecordPath(home)
  if (!existsSync(path)) return undefined
  const record = JSON.parse(readFileSync(path, "utf8")) as DevRecord
  if (alive(record.pid)) return record
  rmSync(path, { force: true })
  return undefined
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
 * Opens a client for a command. With `TEMPORAL_ADDRESS` set it only talks to that cluster.
 * Otherwise it uses a running `winnow dev` of this home, or (when `embed` is true) starts an
 * embedded dev server and an in-process worker, stopped again by `close`.
 */
export const openSession = async (config: CliConfig, log: Logger, embed: boolean): Promise<Session> => {
  const dev = config.address ? undefined : runningDev(config.home)
  const external = config.address ?? dev?.address
  if (external) {
    const client = await connectClient(external, config.namespace)
    const taskQueue = dev?.taskQueue ?? config.taskQueue
    return { client, address: external, taskQueue, embedded: false, close: () => client.connection.close() }
  }
  if (!embed) {
    throw new TemporalUnavailable({ reason: "no Temporal server: TEMPORAL_ADDRESS is unset and no `winnow dev` is running", remedy: "start `winnow dev` in another terminal, or set TEMPORAL_ADDRESS" })
  }
  const cli = await ensureTemporalCli(log)
  const db = claimEmbeddedDb(config.home)
  let server: DevServer
  try {
    server = await startDevServer({ cliPath: cli, dbFile: db.file, ui: false, log })
  } catch (e) {
    db.release()
    throw e
  }
  const stopServer = async () => {
    await server.stop()
    db.release()
  }
  let worker: RunningWorker | undefined
  try {
    const { startWorker } = await import("../worker/temporalWorker.js")
    worker = await startWorker({ address: server.address, namespace: config.namespace, taskQueue: config.taskQueue, home: config.home, pool: defaultPoolOptions(config.modelMemoryBytes), logger: log })
    const client = await connectClient(server.address, config.namespace)
    return {
      client,
      address: server.address,
      taskQueue: config.taskQueue,
      embedded: true,
      close: async () => {
        await client.connection.close()
        await worker!.shutdown()
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
 * The embedded server's SQLite file: one per winnow home, unless another live process holds
 * it; then a throw-away per-process file, so two concurrent runs never share one database.
 */
const claimEmbeddedDb = (home: string): { file: string; release(): void } => {
  const dir = join(home, "temporal")
  mkdirSync(dir, { recursive: true })
  const lock = join(dir, "embedded.lock")
  const holder = existsSync(lock) ? Number(readFileSync(lock, "utf8")) : 0
  if (holder && holder !== process.pid && alive(holder)) {
    const file = join(dir, `embedded-${process.pid}.db`)
    return { file, release: () => rmSync(file, { force: true }) }
  }
  writeFileSync(lock, String(process.pid))
  return { file: join(dir, "embedded.db"), release: () => rmSync(lock, { force: true }) }
}

/** Runs `use` with a session and always closes it (the scope of one CLI command). */
export const withSession = async <A>(config: CliConfig, log: Logger, embed: boolean, use: (session: Session) => Promise<A>): Promise<A> => {
  const session = await openSession(config, log, embed)
  try {
    return await use(session)
  } finally {
    await session.close()
  }
}
