import { appendFileSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Logger } from "pino"
import { TemporalUnavailable } from "../core/errors.js"
import { commandOf, ensureTools, envOf, repoRoot, runStep, type Tools, workerPolls } from "./native.js"
import { postgresRoot, postgresUser, initDatabase } from "./postgres.js"
import { isAlive, logTail, pollUntil, type ProcessRef, refOf, startDetached, stopProcess } from "./processes.js"
import { checkUnchanged, type ClusterState, defaultWorkers, nativePlacement, newState, readState, storeEnvHash, writeState } from "./state.js"
import { CLUSTER, clientEnv, clusterServices, parseWorkers, type Service, workerQueues } from "./topology.js"

/** One service as `scripts/cluster status` reports it. */
export interface ServiceStatus {
  readonly name: string
  readonly running: boolean
  readonly pid: number | undefined
  /** What it offers: an address, or the task queues a worker polls. */
  readonly detail: string
  readonly log: string
}

/** The whole cluster as `status` reports it. */
export interface ClusterStatus {
  readonly dir: string
  readonly workers: string
  readonly services: readonly ServiceStatus[]
  /** What a client exports to use the cluster (`scripts/cluster env`). */
  readonly clientEnv: Readonly<Record<string, string>>
}

const logOf = (dir: string, name: string) => join(dir, "logs", `${name}.log`)
const READY_MS = 180_000

const daemons = (state: ClusterState): Service[] =>
  clusterServices(parseWorkers(state.workers), nativePlacement(state)).filter((s) => s.run === "daemon")

const anyRunning = (state: ClusterState): boolean => Object.values(state.processes).some(isAlive)

/** Runs `fn` holding `<dir>/.lock`, so two `up`/`down` never work on one cluster at once (a dead holder's lock is taken over). */
const withLock = async <T>(dir: string, fn: () => Promise<T>): Promise<T> => {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, ".lock")
  try {
    writeFileSync(path, String(process.pid), { flag: "wx" })
  } catch {
    const holder = Number(readFileSync(path, "utf8"))
    if (holder && holder !== process.pid && refOf(holder)) {
      throw new TemporalUnavailable({ reason: `another scripts/cluster (pid ${holder}) is working on ${dir}`, remedy: "wait until it has finished, then try again" })
    }
    writeFileSync(path, String(process.pid))
  }
  try {
    return await fn()
  } finally {
    rmSync(path, { force: true })
  }
}

/** Runs a job's steps in order until all succeed, again from the start after a failure (as Docker's `restart: on-failure`). */
const runJob = async (tools: Tools, state: ClusterState, service: Service, log: Logger): Promise<void> => {
  const env = envOf(service, process.env)
  const file = logOf(state.dir, service.name)
  mkdirSync(join(state.dir, "logs"), { recursive: true })
  let last = ""
  const done = await pollUntil(async () => {
    for (const step of service.steps) {
      const result = await runStep(tools, step, env)
      appendFileSync(file, `$ ${step.program} ${step.args.join(" ")}\n${result.output}\n[exit ${result.code}]\n`)
      if (result.code !== 0) {
        last = result.output.split("\n").slice(-6).join("\n")
        return false
      }
    }
    return true
  }, READY_MS, undefined, 2000)
  if (done !== true) throw new TemporalUnavailable({ reason: `${service.name} did not complete (${done}); last output:\n${last}`, remedy: `see ${file}` })
  log.info({ service: service.name }, "done")
}

/** Starts a daemon unless it runs, and waits until it serves: its health command succeeds, or (a worker) it polls all its queues. */
const startDaemon = async (tools: Tools, state: ClusterState, service: Service, record: (name: string, ref: ProcessRef) => void, log: Logger): Promise<void> => {
  if (isAlive(state.processes[service.name])) return
  const at = nativePlacement(state)
  const env = envOf(service, process.env)
  const file = logOf(state.dir, service.name)
  const step = service.steps[0]!
  const [command, ...prefix] = commandOf(tools, step.program)
  const user = service.image === "postgres" ? tools.postgresUser : undefined
  mkdirSync(join(state.dir, "logs"), { recursive: true })
  appendFileSync(file, `--- ${new Date().toISOString()} starting ${service.name}\n`)
  const { ref, exited } = startDetached({ command, args: [...prefix, ...step.args], env, log: file, cwd: user ? state.postgresRoot : state.dir, ...(user ? { user } : {}) })
  let exit: string | undefined
  void exited.then((code) => { exit = `exited (${code})` })
  record(service.name, ref)
  const worker = parseWorkers(state.workers).find((w) => `worker-${w.name}` === service.name)
  const ready = worker
    ? () => workerPolls(at, ref, workerQueues(worker).map((name, i) => ({ name, workflows: worker.serves[i] === "workflows" })))
    : async () => {
      const result = await runStep(tools, service.health!, env)
      return result.code === 0 && (service.name !== "temporal" || result.output.includes("SERVING"))
    }
  const outcome = await pollUntil(ready, READY_MS, () => exit)
  if (outcome !== true) {
    await stopProcess(ref, "SIGKILL", 1000)
    throw new TemporalUnavailable({ reason: `${service.name} ${outcome}; its log ends:\n${logTail(file, 1500)}`, remedy: `see ${file}` })
  }
  log.info({ service: service.name, pid: ref.pid }, "running")
}

/**
 * `scripts/cluster up`: brings the cluster in `dir` up, starting only what does not run yet
 * (idempotent: a second `up` restarts a dead worker and leaves the rest alone). Installs
 * PostgreSQL and builds the Temporal server on first use; initialises the database once; runs the
 * schema and namespace jobs each time (they are idempotent).
 */
export const clusterUp = (options: { dir: string; workers?: string; log: Logger }): Promise<ClusterStatus> => withLock(options.dir, async () => {
  const { dir, log } = options
  const saved = readState(dir)
  const workers = options.workers ?? saved?.workers ?? defaultWorkers()
  parseWorkers(workers)
  if (saved) checkUnchanged(saved, workers, process.env, anyRunning(saved))
  const tools = await ensureTools(log)
  mkdirSync(dir, { recursive: true })
  let state: ClusterState = saved
    ? { ...saved, workers, storeEnvHash: anyRunning(saved) ? saved.storeEnvHash : storeEnvHash(process.env) }
    : await newState(dir, workers, postgresRoot(dir, postgresUser()), process.env)
  writeState(state)
  const db = CLUSTER.database
  await initDatabase(tools.postgres, state.postgresRoot, tools.postgresUser, db.user, db.password)
  mkdirSync(join(dir, "temporal", "config"), { recursive: true })
  copyFileSync(join(repoRoot, "deploy", "temporal", `${CLUSTER.configName}.yaml`), join(dir, "temporal", "config", `${CLUSTER.configName}.yaml`))
  mkdirSync(state.home, { recursive: true })
  const record = (name: string, ref: ProcessRef) => {
    state = { ...state, processes: { ...state.processes, [name]: ref } }
    writeState(state)
  }
  const services = clusterServices(parseWorkers(workers), nativePlacement(state))
  for (const service of services.filter((s) => s.image !== "winnow")) {
    if (service.run === "once") await runJob(tools, state, service, log)
    else await startDaemon(tools, state, service, record, log)
  }
  const started = await Promise.allSettled(services.filter((s) => s.image === "winnow").map((s) => startDaemon(tools, state, s, record, log)))
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected")
  if (failed) throw failed.reason
  return clusterStatus(dir)
})

/**
 * `scripts/cluster down`: stops the workers, then the Temporal server, then PostgreSQL, each with
 * its stop signal (SIGKILL after 30 s). Keeps the data unless `purge`, which also deletes the
 * state directory and the database.
 */
export const clusterDown = async (options: { dir: string; purge: boolean; log: Logger }): Promise<{ stopped: string[] }> => {
  if (!readState(options.dir)) {
    if (options.purge) rmSync(options.dir, { recursive: true, force: true })
    return { stopped: [] }
  }
  const stopped = await withLock(options.dir, () => stopAll(readState(options.dir)!, options.log))
  if (options.purge) {
    rmSync(readState(options.dir)!.postgresRoot, { recursive: true, force: true })
    rmSync(options.dir, { recursive: true, force: true })
  }
  return { stopped }
}

const stopAll = async (state: ClusterState, log: Logger): Promise<string[]> => {
  const stopped: string[] = []
  const services = daemons(state)
  const order = [...services.filter((s) => s.image === "winnow"), ...services.filter((s) => s.image !== "winnow").reverse()]
  const workers = order.filter((s) => s.image === "winnow")
  const stopOne = async (service: Service) => {
    const ref: ProcessRef | undefined = state.processes[service.name]
    if (!isAlive(ref)) return
    await stopProcess(ref, service.stopSignal)
    stopped.push(service.name)
    log.info({ service: service.name }, "stopped")
  }
  await Promise.all(workers.map(stopOne))
  for (const service of order.filter((s) => s.image !== "winnow")) await stopOne(service)
  writeState({ ...state, processes: {} })
  return stopped
}

/** `scripts/cluster status`: every daemon of the cluster in `dir`, running or not, with its pid, address or queues, and log. */
export const clusterStatus = (dir: string): ClusterStatus => {
  const state = readState(dir)
  if (!state) throw new TemporalUnavailable({ reason: `no cluster in ${dir}`, remedy: "start one with scripts/cluster up (--dir names another state directory)" })
  const at = nativePlacement(state)
  const workers = parseWorkers(state.workers)
  const services = daemons(state).map((service): ServiceStatus => {
    const ref = state.processes[service.name]
    const running = isAlive(ref)
    const worker = workers.find((w) => `worker-${w.name}` === service.name)
    const detail = service.name === "postgresql" ? `127.0.0.1:${at.database.port} (data ${join(state.postgresRoot, "data")})`
      : service.name === "temporal" ? `127.0.0.1:${at.frontend.port}`
      : `queues ${workerQueues(worker!).join(", ")}`
    return { name: service.name, running, pid: running ? ref!.pid : undefined, detail, log: logOf(dir, service.name) }
  })
  return { dir, workers: state.workers, services, clientEnv: clientEnv(at) }
}
