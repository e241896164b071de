import { execFile } from "node:child_process"
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { sha256 } from "../core/hash.js"
import { toolCache } from "../core/home.js"

const run = promisify(execFile)

/** How long a lock on an environment being built may sit before another process takes over. */
const STALE_LOCK_MS = 30 * 60_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A Python virtual environment with exactly `packages` (pinned `name==version` strings)
 * installed from the package index, cached under the winnow tool cache and keyed by the list.
 * The bundled trainer, benchmarks and the tests that need real Python consumers call this; nobody
 * installs by hand. Processes that ask for the same environment at once build it once (a lock
 * folder beside it). Returns the environment's python executable.
 */
export const ensurePythonEnv = async (packages: readonly string[], log: (line: string) => void = () => {}): Promise<string> => {
  const key = sha256([...packages].sort().join("\n")).slice(0, 12)
  const dir = join(toolCache(), "python", key)
  const python = join(dir, "bin", "python")
  if (existsSync(python)) return python
  mkdirSync(join(dir, ".."), { recursive: true })
  const lock = `${dir}.lock`
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (existsSync(python)) return python
      const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true })
      else await sleep(2000)
    }
  }
  try {
    if (existsSync(python)) return python
    const staging = `${dir}.partial-${process.pid}`
    rmSync(staging, { recursive: true, force: true })
    log(`creating Python environment for ${packages.join(" ")} (first use only; a few minutes)`)
    await run(process.env.WINNOW_PYTHON ?? "python3", ["-m", "venv", staging])
    await run(join(staging, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...packages], { maxBuffer: 64 * 1024 * 1024 })
    renameSync(staging, dir)
    return python
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Runs a Python script with arguments and returns its stdout (stderr is passed through on failure). */
export const runPython = async (python: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
  const { stdout } = await run(python, [script, ...args], { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 })
  return stdout
}
