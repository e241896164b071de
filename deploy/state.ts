import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import { inputInvalid } from "../core/errors.js"
import { winnowHome } from "../core/home.js"
import { createServer } from "node:net"
import type { ProcessRef } from "./processes.js"
import { CLUSTER, formatWorkers, type Placement, type TemporalPorts } from "./topology.js"

/** What `scripts/cluster` keeps in `<dir>/cluster.json`: where everything is, and what it started. */
export interface ClusterState {
  readonly dir: string
  /** `--workers` text of the workers this cluster runs. */
  readonly workers: string
  /** The workers' shared WINNOW_HOME. */
  readonly home: string
  /** Holds PostgreSQL's `data/`. */
  readonly postgresRoot: string
  readonly ports: { readonly database: number } & TemporalPorts
  /** Hash of the store variables (CLUSTER.storeEnv) the workers were started with: a restarted worker must get the same store. */
  readonly storeEnvHash: string
  readonly processes: Readonly<Record<string, ProcessRef>>
}

/** The state directory: `--dir`, else `WINNOW_CLUSTER_DIR`, else `<WINNOW_HOME>/cluster`. */
export const clusterDir = (dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string =>
  resolve(dir ?? (env.WINNOW_CLUSTER_DIR || join(env.WINNOW_HOME ? winnowHome(env) : join(homedir(), ".winnow"), "cluster")))

const statePath = (dir: string) => join(dir, "cluster.json")

/** The saved state of the cluster in `dir`, or undefined before its first `up`. */
export const readState = (dir: string): ClusterState | undefined =>
  existsSync(statePath(dir)) ? (JSON.parse(readFileSync(statePath(dir), "utf8")) as ClusterState) : undefined

/** Saves the state atomically (owner-only: it names the store's settings by hash only, but still). */
export const writeState = (state: ClusterState): void => {
  mkdirSync(state.dir, { recursive: true })
  const tmp = `${statePath(state.dir)}.tmp`
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  renameSync(tmp, statePath(state.dir))
}

/** A hash of the store variables set in `env`, so a later `up` can tell whether they changed. */
export const storeEnvHash = (env: NodeJS.ProcessEnv): string =>
  createHash("sha256").update(JSON.stringify(CLUSTER.storeEnv.map((name) => [name, env[name] ?? null]))).digest("hex").slice(0, 16)

/** True when nothing listens on `port` on loopback. */
const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/**
 * A free loopback port from 20000 to 32767: Temporal stores membership ports as a PostgreSQL
 * smallint, so the kernel's ephemeral ports (32768 and up) are out of range.
 */
const freeLowPort = async (taken: Set<number>): Promise<number> => {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12768)
    if (!taken.has(port) && (await portFree(port))) {
      taken.add(port)
      return port
    }
  }
}

/** A new state for `dir`: free loopback ports for every listener, the workers' home from WINNOW_HOME or `<dir>/home`. */
export const newState = async (dir: string, workers: string, postgresRoot: string, env: NodeJS.ProcessEnv): Promise<ClusterState> => {
  const taken = new Set<number>()
  const port = () => freeLowPort(taken)
  const ports = {
    database: await port(),
    frontend: await port(), frontendMembership: await port(),
    history: await port(), historyMembership: await port(),
    matching: await port(), matchingMembership: await port(),
    worker: await port(), workerMembership: await port()
  }
  return { dir, workers, home: env.WINNOW_HOME ? winnowHome(env) : join(dir, "home"), postgresRoot, ports, storeEnvHash: storeEnvHash(env), processes: {} }
}

/** Fails when a running cluster would change under its workers: another worker list or another store. */
export const checkUnchanged = (state: ClusterState, workers: string, env: NodeJS.ProcessEnv, running: boolean): void => {
  if (!running) return
  if (state.workers !== workers) throw inputInvalid("scripts/cluster", "--workers", workers, `the running cluster's workers (${state.workers}); run scripts/cluster down first to change them`)
  if (state.storeEnvHash !== storeEnvHash(env)) {
    throw inputInvalid("scripts/cluster", CLUSTER.storeEnv.join("/"), "changed", "the store settings the running workers were started with; run scripts/cluster down first to change them")
  }
}

/** The native placement: everything on 127.0.0.1 at the state's ports, paths under its directory. */
export const nativePlacement = (state: ClusterState): Placement => ({
  target: "native",
  database: { host: "127.0.0.1", port: state.ports.database },
  frontend: { host: "127.0.0.1", port: state.ports.frontend },
  temporalPorts: state.ports,
  bindIp: "127.0.0.1",
  temporalRoot: join(state.dir, "temporal"),
  home: state.home,
  postgresArgs: ["-D", join(state.postgresRoot, "data"), "-p", String(state.ports.database), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
})

/** The default `--workers` text (CLUSTER.workers). */
export const defaultWorkers = (): string => formatWorkers(CLUSTER.workers)
