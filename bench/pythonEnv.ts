import { execFile } from "node:child_process"
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { sha256 } from "../core/hash.js"
import { toolCache } from "../core/home.js"

const run = promisify(execFile)

/**
 * A Python virtual environment with exactly `packages` (pinned `name==version` strings)
 * installed from the package index, cached under the winnow tool cache and keyed by the list.
 * Benchmarks and the tests that need real Python consumers call this; nobody installs by hand.
 * Returns the environment's python executable.
 */
export const ensurePythonEnv = async (packages: readonly string[], log: (line: string) => void = () => {}): Promise<string> => {
  const key = sha256([...packages].sort().join("\n")).slice(0, 12)
  const dir = join(toolCache(), "python", key)
  const python = join(dir, "bin", "python")
  if (existsSync(python)) return python
  const base = process.env.WINNOW_PYTHON ?? "python3"
  mkdirSync(join(dir, ".."), { recursive: true })
  const staging = `${dir}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  log(`creating Python environment for ${packages.join(" ")}`)
  await run(base, ["-m", "venv", staging])
  await run(join(staging, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...packages], { maxBuffer: 64 * 1024 * 1024 })
  if (!existsSync(python)) renameSync(staging, dir)
  else rmSync(staging, { recursive: true, force: true })
  return python
}

/** Runs a Python script with arguments and returns its stdout (stderr is passed through on failure). */
export const runPython = async (python: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
  const { stdout } = await run(python, [script, ...args], { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 })
  return stdout
}
