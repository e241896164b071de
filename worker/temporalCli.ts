import { execFile } from "node:child_process"
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs"
import { delimiter, join } from "node:path"
import { promisify } from "node:util"
import type { Logger } from "pino"
import { DEFAULTS } from "../core/defaults.js"
import { TemporalUnavailable } from "../core/errors.js"
import { toolCache } from "../core/home.js"

const run = promisify(execFile)
const MODULE = "github.com/temporalio/cli/cmd/temporal"
const REMEDY =
  `Install Go 1.25 or newer (it builds the Temporal CLI ${DEFAULTS.temporalCliVersion} from the Go module proxy on first use), ` +
  "or set TEMPORAL_CLI_PATH to an existing temporal binary, or put one on PATH"

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const onPath = (name: string, env: NodeJS.ProcessEnv): string | undefined =>
  (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, name)).find(isExecutable)

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
  await buildCli(cached, log, env)
  return cached
}

const buildCli = async (target: string, log: Logger, env: NodeJS.ProcessEnv): Promise<void> => {
  const go = onPath("go", env)
  if (!go) throw new TemporalUnavailable({ reason: "the Temporal CLI was not found and Go is not installed to build it", remedy: REMEDY })
  const { stdout } = await run(go, ["version"], { env })
  const match = /go(\d+)\.(\d+)/.exec(stdout)
  if (!match || Number(match[1]) < 1 || (Number(match[1]) === 1 && Number(match[2]) < 25)) {
    throw new TemporalUnavailable({ reason: `Go 1.25 or newer is needed to build the Temporal CLI; found: ${stdout.trim()}`, remedy: REMEDY })
  }
  const dir = join(target, "..")
  mkdirSync(dir, { recursive: true })
  const bin = mkdtempSync(join(dir, ".build-"))
  log.warn({ module: `${MODULE}@${DEFAULTS.temporalCliVersion}`, target }, "building the Temporal CLI with go install (first run only; about 2 minutes on 2 cores, cached afterwards)")
  try {
    await run(go, ["install", `${MODULE}@${DEFAULTS.temporalCliVersion}`], {
      env: { ...env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOBIN: bin},
      maxBuffer: 64 * 1024 * 1024
    })
    if (!existsSync(target)) renameSync(join(bin, "temporal"), target)
  } catch (e) {
    const detail = (e as { stderr?: string }).stderr?.split("\n").slice(-8).join("\n") ?? (e as Error).message
    throw new TemporalUnavailable({ reason: `building the Temporal CLI failed:\n${detail}`, remedy: REMEDY })
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
  log.info({ target }, "Temporal CLI built")
}
