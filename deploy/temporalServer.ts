import { join } from "node:path"
import type { Logger } from "pino"
import { DEFAULTS } from "../core/defaults.js"
import { toolCache } from "../core/home.js"
import { goInstall, isExecutable } from "../worker/goInstall.js"

const MODULE = "go.temporal.io/server"

/** The cached Temporal server binaries of one version. */
export interface TemporalServerBinaries {
  /** `temporal-server`: `--root R --config config --env E start`. */
  readonly server: string
  /** `temporal-sql-tool`: creates the databases and applies the schemas embedded in it. */
  readonly sqlTool: string
}

/** Where the server binaries of `version` are cached, outside any repository. */
export const cachedServerBinaries = (env: NodeJS.ProcessEnv = process.env, version: string = DEFAULTS.temporalServerVersion): TemporalServerBinaries => {
  const dir = join(toolCache(env), "temporal-server", version)
  return { server: join(dir, "temporal-server"), sqlTool: join(dir, "temporal-sql-tool") }
}

/**
 * The Temporal server and its SQL schema tool at `DEFAULTS.temporalServerVersion`: from the cache,
 * else built once with `go install` from the Go module proxy (pure Go, about 3 minutes on 2 cores).
 * Use before starting a PostgreSQL-backed cluster.
 */
export const ensureTemporalServer = async (log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<TemporalServerBinaries> => {
  const version = DEFAULTS.temporalServerVersion
  const binaries = cachedServerBinaries(env, version)
  if (isExecutable(binaries.server) && isExecutable(binaries.sqlTool)) return binaries
  await goInstall({
    packages: [`${MODULE}/cmd/server@${version}`, `${MODULE}/cmd/tools/sql@${version}`],
    binaries: { server: binaries.server, sql: binaries.sqlTool },
    what: `the Temporal server ${version}`,
    expected: "about 3 minutes on 2 cores",
    remedy: `Install Go 1.25 or newer: it builds the Temporal server ${version} and temporal-sql-tool from the Go module proxy on first use`
  }, log, env)
  return binaries
}
