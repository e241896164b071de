import { execFile, spawn } from "node:child_process"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs"
import { dirname } from "node:path"

/** A process the cluster started: its pid and its start time (to tell it from a later process given the same pid). */
export interface ProcessRef {
  readonly pid: number
  readonly startTime: string
}

/** The kernel's start time of `pid` and whether it is still running (not a zombie); undefined when there is no such process. */
const procStat = (pid: number): { startTime: string; running: boolean } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { startTime: fields[19]!, running: fields[0] !== "Z" && fields[0] !== "X" }
  } catch {
    return undefined
  }
}

/** The reference of a running `pid`, or undefined. */
export const refOf = (pid: number): ProcessRef | undefined => {
  const stat = procStat(pid)
  return stat?.running ? { pid, startTime: stat.startTime } : undefined
}

/** True while the process `ref` names runs (the same process, not a successor with its pid). */
export const isAlive = (ref: ProcessRef | undefined): boolean => {
  if (!ref) return false
  const stat = procStat(ref.pid)
  return stat !== undefined && stat.running && stat.startTime === ref.startTime
}

/** The last `bytes` of a log file, for error messages. */
export const logTail = (path: string, bytes = 3000): string => {
  if (!existsSync(path)) return "(no log)"
  const text = readFileSync(path, "utf8")
  return text.slice(-bytes).trim()
}

/** What to start: a command, its environment, its log file, and optionally the user to run as. */
export interface Launch {
  readonly command: string
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly log: string
  readonly cwd?: string
  readonly user?: { readonly uid: number; readonly gid: number }
}

/**
 * Starts a daemon in its own session, detached from this process (it outlives `scripts/cluster`),
 * stdout and stderr appended to its log. Returns its reference and a promise that settles if it
 * exits while this process still watches.
 */
export const startDetached = (launch: Launch): { ref: ProcessRef; exited: Promise<number | string> } => {
  mkdirSync(dirname(launch.log), { recursive: true })
  const fd = openSync(launch.log, "a")
  try {
    const child = spawn(launch.command, [...launch.args], {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: launch.env,
      ...(launch.cwd ? { cwd: launch.cwd } : {}),
      ...(launch.user ? { uid: launch.user.uid, gid: launch.user.gid } : {})
    })
    const exited = new Promise<number | string>((resolve) => {
      child.once("error", (e) => resolve(e.message))
      child.once("exit", (code, signal) => resolve(signal ?? code ?? -1))
    })
    child.unref()
    const ref = child.pid !== undefined ? refOf(child.pid) : undefined
    return { ref: ref ?? { pid: child.pid ?? -1, startTime: "" }, exited }
  } finally {
    closeSync(fd)
  }
}

/** Result of a command run to its end. */
export interface Finished {
  readonly code: number
  readonly output: string
}

/** Runs a command to its end (no shell), its output captured; never throws on a non-zero exit. */
export const runToEnd = (command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; user?: { uid: number; gid: number }; timeoutMs?: number } = {}): Promise<Finished> =>
  new Promise((resolve) => {
    execFile(command, [...args], {
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {})
    }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1) : 0
      resolve({ code, output: `${stdout}${stderr}`.trim() })
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Sends `signal` to the process `ref` names and waits until it is gone; SIGKILL after `graceMs`.
 * Does nothing when it no longer runs. Never signals a process that merely reuses the pid.
 */
export const stopProcess = async (ref: ProcessRef | undefined, signal: NodeJS.Signals, graceMs = 30_000): Promise<void> => {
  if (!ref || !isAlive(ref)) return
  process.kill(ref.pid, signal)
  const deadline = Date.now() + graceMs
  while (isAlive(ref)) {
    if (Date.now() > deadline) {
      process.kill(ref.pid, "SIGKILL")
      while (isAlive(ref)) await sleep(100)
      return
    }
    await sleep(100)
  }
}

/** Polls `probe` every `everyMs` until it returns true; false after `timeoutMs`, or at once when `abort` returns a reason. */
export const pollUntil = async (probe: () => Promise<boolean>, timeoutMs: number, abort: () => string | undefined = () => undefined, everyMs = 500): Promise<true | string> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reason = abort()
    if (reason !== undefined) return reason
    if (await probe()) return true
    if (Date.now() > deadline) return `not ready within ${Math.round(timeoutMs / 1000)} s`
    await sleep(everyMs)
  }
}
