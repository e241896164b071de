import { join } from "node:path"
import type { Logger } from "pino"
import { DEFAULTS } from "../core/defaults.js"
import { TemporalUnavailable } from "../core/errors.js"
import { toolCache } from "../core/home.js"
import { goInstall, isExecutable, onPath } from "./goInstall.js"

const MODULE = "github.com/temporalio/cli/cmd/temporal"
const REMEDY =
  `Install Go 1.25 or newer (it builds the Temporal CLI ${DEFAULTS.temporalCliVersion} from the Go module proxy on first use), ` +
  "or set TEMPORAL_CLI_PATH to an existing temporal binary, or put one on PATH"

/** Where a built CLI of `version` is cached, outside any repository. */
export const cachedCliPath = (env: NodeJS.ProcessEnv = process.env, version: string = DEFAULTS.temporalCliVersion): string =>
  join(toolCache(env), "temporal-cli", version, "temporal")

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI_PATH`, else `temporal` on PATH, else the cached build,
 * else builds it with `go install` (pure Go, no cgo) into the cache. Nothing is downloaded
 * except Go modules through the module proxy.
 */
export const ensureTemporalCli = async (log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string> => {
  const explicit = env.TEMPORAL_CLI_PATH
  if (explicit) {
    if (isExecutable(explicit)) return explicit
    throw new TemporalUnavailable({ reason: `TEMPORAL_CLI_PATH=${explicit} is not an executable file`, remedy: REMEDY })
  }
  const found = onPath("temporal", env)
  if (found) return found
  const cached = cachedCliPath(env)
  if (isExecutable(cached)) return cached
  await goInstall({
    packages: [`${MODULE}@${DEFAULTS.temporalCliVersion}`],
    binaries: { temporal: cached },
    what: `the Temporal CLI ${DEFAULTS.temporalCliVersion}`,
    expected: "about 2 minutes on 2 cores",
    remedy: REMEDY
  }, log, env)
  return cached
}
