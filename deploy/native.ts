import { existsSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Connection } from "@temporalio/client"
import proto from "@temporalio/proto"
import type { Logger } from "pino"
import { ensureTemporalCli } from "../worker/temporalCli.js"
import { ensurePostgres, type PostgresInstall, type PostgresUser, postgresUser } from "./postgres.js"
import { type Finished, type ProcessRef, runToEnd } from "./processes.js"
import { ensureTemporalServer, type TemporalServerBinaries } from "./temporalServer.js"
import { CLUSTER, type Placement, type Program, type Service, type Step } from "./topology.js"

/** The repository root, whether this runs from source (tests) or from `dist/` (scripts/cluster). */
export const repoRoot: string = ((here) => (existsSync(join(here, "bin/winnow.js")) ? here : join(here, "..")))(fileURLToPath(new URL("../", import.meta.url)))

/** The programs of the cluster on this machine. */
export interface Tools {
  readonly postgres: PostgresInstall
  readonly postgresUser: PostgresUser | undefined
  readonly server: TemporalServerBinaries
  readonly cli: string
}

/** Installs or builds what the cluster runs: Debian's PostgreSQL, the Temporal server and schema tool, the Temporal CLI. */
export const ensureTools = async (log: Logger): Promise<Tools> => {
  const postgres = await ensurePostgres(log)
  if (postgres.major !== CLUSTER.database.postgresMajor) {
    log.warn({ found: postgres.major, compose: CLUSTER.database.postgresMajor }, "this machine's PostgreSQL differs from the major version docker-compose.yml runs")
  }
  const server = await ensureTemporalServer(log)
  const cli = await ensureTemporalCli(log)
  return { postgres, postgresUser: postgresUser(), server, cli }
}

/** The command line of `program` here: an absolute path (and, for winnow, node with the repo's bin). */
export const commandOf = (tools: Tools, program: Program): [string, ...string[]] => {
  switch (program) {
    case "postgres": return [join(tools.postgres.bin, "postgres")]
    case "pg_isready": return [join(tools.postgres.bin, "pg_isready")]
    case "temporal-server": return [tools.server.server]
    case "temporal-sql-tool": return [tools.server.sqlTool]
    case "temporal": return [tools.cli]
    case "winnow": return [process.execPath, join(repoRoot, "bin/winnow.js")]
  }
}

const BASE_ENV = ["PATH", "HOME", "LANG", "TMPDIR", "WINNOW_CACHE", "XDG_CACHE_HOME", "GOMAXPROCS"]

/**
 * A service's environment here: a few basics from `env` (PATH, HOME, caches), then the
 * service's own variables; a `null` one passes through from `env` when set there.
 */
export const envOf = (service: Service, env: NodeJS.ProcessEnv): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of BASE_ENV) if (env[name] !== undefined) out[name] = env[name]!
  for (const [name, value] of Object.entries(service.env)) {
    if (value !== null) out[name] = value
    else if (env[name] !== undefined && env[name] !== "") out[name] = env[name]!
  }
  return out
}

/** Runs one step of a job or a health check to its end; an `unless` that succeeds skips it. */
export const runStep = async (tools: Tools, step: Step, env: Record<string, string>, user?: PostgresUser): Promise<Finished> => {
  if (step.unless) {
    const [command, ...prefix] = commandOf(tools, step.unless.program)
    const check = await runToEnd(command, [...prefix, ...step.unless.args], { env, timeoutMs: 60_000 })
    if (check.code === 0) return { code: 0, output: `skipped: ${step.unless.args.join(" ")} succeeded` }
  }
  const [command, ...prefix] = commandOf(tools, step.program)
  return runToEnd(command, [...prefix, ...step.args], { env, timeoutMs: 120_000, ...(user ? { user } : {}) })
}

const QUEUE_TYPE = proto.temporal.api.enums.v1.TaskQueueType

/**
 * True once the worker process `ref` polls every queue it serves (as the frontend lists pollers,
 * identity `<pid>@<host>`): the workflows queue for workflow tasks, the others for activities.
 */
export const workerPolls = async (at: Placement, ref: ProcessRef, queues: ReadonlyArray<{ name: string; workflows: boolean }>): Promise<boolean> => {
  const identity = `${ref.pid}@${hostname()}`
  const connection = await Connection.connect({ address: `${at.frontend.host}:${at.frontend.port}`, connectTimeout: 2000 }).catch(() => undefined)
  if (!connection) return false
  try {
    for (const queue of queues) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: CLUSTER.namespace,
        taskQueue: { name: queue.name },
        taskQueueType: queue.workflows ? QUEUE_TYPE.TASK_QUEUE_TYPE_WORKFLOW : QUEUE_TYPE.TASK_QUEUE_TYPE_ACTIVITY
      })
      if (!(pollers ?? []).some((p) => p.identity === identity)) return false
    }
    return true
  } catch {
    return false
  } finally {
    await connection.close()
  }
}
