import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { createServer } from "node:net"
import { dirname } from "node:path"
import { Connection } from "@temporalio/client"
import type { Logger } from "pino"
import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"
import { TemporalUnavailable } from "../core/errors.js"

/** A running `temporal server start-dev`. */
export interface DevServer {
  readonly address: string
  readonly uiUrl: string | undefined
  readonly pid: number
  stop(): Promise<void>
}

/** Options of the embedded dev server. Ports default to free ones. */
export interface DevServerOptions {
  readonly cliPath: string
  readonly dbFile: string
  readonly port?: number
  readonly uiPort?: number
  readonly ui: boolean
  readonly log: Logger
}

/** A free TCP port on loopback. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** The `--search-attribute` flags that register winnow's search attributes. */
export const searchAttributeFlags = (): string[] =>
  Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ["--search-attribute", `${name}=Keyword`])

/**
 * Starts Temporal's dev server (SQLite file persistence, optional Web UI) with winnow's search
 * attributes registered, and waits until it answers. Stop it with `stop()`.
 */
export const startDevServer = async (options: DevServerOptions): Promise<DevServer> => {
  const port = options.port ?? (await freePort())
  const uiPort = options.uiPort ?? (await freePort())
  mkdirSync(dirname(options.dbFile), { recursive: true })
  const args = [
    "server", "start-dev",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--db-filename", options.dbFile,
    "--log-level", "warn",
    ...searchAttributeFlags(),
    ...(options.ui ? ["--ui-port", String(uiPort)] : ["--headless"])
  ]
  const child = spawn(options.cliPath, args, { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000) }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const address = `127.0.0.1:${port}`
  options.log.debug({ address, dbFile: options.dbFile }, "starting Temporal dev server")
  await waitUntilServing(address, child, () => output)
  return {
    address,
    uiUrl: options.ui ? `http://127.0.0.1:${uiPort}` : undefined,
    pid: child.pid!,
    stop: () => stopProcess(child)
  }
}

const waitUntilServing = async (address: string, child: ChildProcess, output: () => string): Promise<void> => {
  const deadline = Date.now() + 90_000
  let exited: number | null = null
  child.once("exit", (code) => { exited = code ?? -1 })
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new TemporalUnavailable({ reason: `the Temporal dev server exited with code ${exited}: ${output().trim()}`, remedy: "check the output above; another server may hold the database file or port" })
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 })
      try {
        await connection.workflowService.getSystemInfo({})
        return
      } finally {
        await connection.close()
      }
    } catch {
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  await stopProcess(child)
  throw new TemporalUnavailable({ reason: `the Temporal dev server did not answer on ${address} within 90 s`, remedy: output().trim() })
}

/** SIGTERM, then SIGKILL after a grace period. */
export const stopProcess = (child: ChildProcess, graceMs = 10_000): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
    child.once("exit", () => { clearTimeout(timer); resolve() })
    child.kill("SIGTERM")
  })
