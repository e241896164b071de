import { execFile } from "node:child_process"
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs"
import { delimiter, dirname, join } from "node:path"
import { promisify } from "node:util"
import type { Logger } from "pino"
import { TemporalUnavailable } from "../core/errors.js"

const run = promisify(execFile)

/** True when `path` is a file this process may execute. */
export const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The first executable called `name` on the environment's PATH. */
export const onPath = (name: string, env: NodeJS.ProcessEnv): string | undefined =>
  (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, name)).find(isExecutable)

/** One `go install` run: packages of one module at one version, and where each built binary goes. */
export interface GoInstall {
  /** `module/path/cmd/x@version`, all of one module and version (a rule of `go install`). */
  readonly packages: readonly string[]
  /** Built binary name (the package's last path element) → final path in the cache. */
  readonly binaries: Readonly<Record<string, string>>
  /** What is built, for log lines and errors ("the Temporal CLI v1.5.1"). */
  readonly what: string
  /** How long the first build takes here, for the log line. */
  readonly expected: string
  /** What a user can do when the build cannot happen. */
  readonly remedy: string
}

/**
 * Builds Go binaries with `go install` (pure Go, no cgo, the local toolchain, modules from the
 * module proxy) into a scratch directory and moves them to their cached paths. Needs Go 1.25 or
 * newer; fails with `TemporalUnavailable` naming the remedy. Use for the Temporal binaries winnow
 * caches outside any repository.
 */
export const goInstall = async (spec: GoInstall, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<void> => {
  const go = onPath("go", env)
  if (!go) throw new TemporalUnavailable({ reason: `${spec.what} was not found and Go is not installed to build it`, remedy: spec.remedy })
  const { stdout } = await run(go, ["version"], { env })
  const match = /go(\d+)\.(\d+)/.exec(stdout)
  if (!match || Number(match[1]) < 1 || (Number(match[1]) === 1 && Number(match[2]) < 25)) {
    throw new TemporalUnavailable({ reason: `Go 1.25 or newer is needed to build ${spec.what}; found: ${stdout.trim()}`, remedy: spec.remedy })
  }
  const dir = dirname(Object.values(spec.binaries)[0]!)
  mkdirSync(dir, { recursive: true })
  const bin = mkdtempSync(join(dir, ".build-"))
  log.warn({ packages: spec.packages, dir }, `building ${spec.what} with go install (first run only; ${spec.expected}, cached afterwards)`)
  try {
    await run(go, ["install", ...spec.packages], {
      env: { ...env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOBIN: bin },
      maxBuffer: 64 * 1024 * 1024
    })
    for (const [built, target] of Object.entries(spec.binaries)) {
      mkdirSync(dirname(target), { recursive: true })
      if (!existsSync(target)) renameSync(join(bin, built), target)
    }
  } catch (e) {
    const detail = (e as { stderr?: string }).stderr?.split("\n").slice(-8).join("\n") ?? (e as Error).message
    throw new TemporalUnavailable({ reason: `building ${spec.what} failed:\n${detail}`, remedy: spec.remedy })
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
  log.info({ dir }, `${spec.what} built`)
}
