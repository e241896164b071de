import { parseArgs } from "node:util"
import { reportFailure } from "../cli/failures.js"
import { createLogger } from "../worker/logger.js"
import { type ClusterStatus, clusterDown, clusterStatus, clusterUp } from "./cluster.js"
import { composeText } from "./compose.js"
import { clusterDir } from "./state.js"

const HELP = `Usage: scripts/cluster <command> [options]

  up [--dir D] [--workers SPEC]   start PostgreSQL, the Temporal server and the workers (only what is not running)
  down [--dir D] [--purge]        stop them all; --purge also deletes the state directory and the database
  status [--dir D] [--json]       what runs, where, and its log (exit 1 when something is not running)
  env [--dir D]                   the variables a client exports to use the cluster
  compose                         print docker-compose.yml (the same topology for Docker)

D defaults to WINNOW_CLUSTER_DIR, else <WINNOW_HOME or ~/.winnow>/cluster.
SPEC is name=duty+duty,... with duties workflows, generation, scoring, store
(default main=workflows+store,generation=generation,scoring=scoring).
Workers share WINNOW_HOME (default <D>/home); WINNOW_STORE and AWS_* pass through to them.`

const shellQuote = (v: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`)

const printStatus = (status: ClusterStatus): void => {
  const rows = status.services.map((s) => [s.name, s.running ? `running (pid ${s.pid})` : "stopped", s.detail])
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  process.stdout.write(`cluster ${status.dir} (workers ${status.workers})\n`)
  for (const r of rows) process.stdout.write(`  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}\n`)
  process.stdout.write(`logs in ${status.dir}/logs; a client uses: eval "$(scripts/cluster env${status.dir ? ` --dir ${shellQuote(status.dir)}` : ""})"\n`)
}

/** Runs `scripts/cluster`; returns the exit code (0 ok, 1 failure, 2 bad usage or input). */
export const main = async (argv: string[]): Promise<number> => {
  const log = createLogger(process.env, "info")
  const [command, ...rest] = argv
  try {
    const { values } = parseArgs({ args: rest, options: { dir: { type: "string" }, workers: { type: "string" }, purge: { type: "boolean" }, json: { type: "boolean" } }, strict: true })
    const dir = clusterDir(values.dir)
    switch (command) {
      case "up": {
        const status = await clusterUp({ dir, ...(values.workers !== undefined ? { workers: values.workers } : {}), log })
        if (values.json) process.stdout.write(`${JSON.stringify(status)}\n`)
        else printStatus(status)
        return 0
      }
      case "down": {
        const { stopped } = await clusterDown({ dir, purge: values.purge ?? false, log })
        process.stdout.write(stopped.length > 0 ? `stopped ${stopped.join(", ")}\n` : "nothing was running\n")
        return 0
      }
      case "status": {
        const status = clusterStatus(dir)
        if (values.json) process.stdout.write(`${JSON.stringify(status)}\n`)
        else printStatus(status)
        return status.services.every((s) => s.running) ? 0 : 1
      }
      case "env": {
        for (const [k, v] of Object.entries(clusterStatus(dir).clientEnv)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`)
        return 0
      }
      case "compose":
        process.stdout.write(composeText())
        return 0
      case undefined: case "help": case "--help": case "-h":
        process.stdout.write(`${HELP}\n`)
        return command === undefined ? 2 : 0
      default:
        process.stderr.write(`scripts/cluster: unknown command ${JSON.stringify(command)}\n\n${HELP}\n`)
        return 2
    }
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`scripts/cluster: ${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    const reported = reportFailure(error)
    process.stderr.write(`scripts/cluster: error [${reported.code}]: ${reported.message}\n`)
    return reported.exit
  } finally {
    log.flush?.()
  }
}

process.exitCode = await main(process.argv.slice(2))
