import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { TrainerFailed } from "../core/errors.js"

/** A trainer's progress as its `progress` lines report it. */
export interface TrainerProgress {
  readonly step: number
  readonly total_steps?: number
  readonly loss?: number
  readonly epoch?: number
}

/** What a finished trainer reported: its metrics (`done` line), the step it resumed from, its last lines of output. */
export interface TrainerOutcome {
  readonly metrics: Record<string, unknown>
  readonly resumedFrom?: number
  readonly output: string
}

/** One trainer run: the program and arguments, and where its name comes from in messages. */
export interface TrainerInvocation {
  readonly name: string
  readonly program: string
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
}

const TAIL_LINES = 40
const KILL_GRACE_MS = 10_000

/**
 * Runs a trainer process to completion. Its stdout may carry JSON lines (`progress`, `resumed`,
 * `done`, the bundled trainer's contract; other trainers may print anything); every other line,
 * and stderr, is kept as the last lines of output for the error of a failed run. A non-zero exit,
 * a signal, or a program that cannot start rejects with `TrainerFailed`. Aborting `signal` stops
 * the trainer's whole process group (SIGTERM, then SIGKILL).
 */
export const runTrainer = (run: TrainerInvocation, onProgress: (progress: TrainerProgress) => void, signal?: AbortSignal): Promise<TrainerOutcome> =>
  new Promise((resolve, reject) => {
    const tail: string[] = []
    const keep = (line: string) => {
      if (line.trim() === "") return
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
    }
    let metrics: Record<string, unknown> = {}
    let resumedFrom: number | undefined
    const [program, args] = tiedToWorker(run.program, run.args)
    const child = spawn(program, args, {
      cwd: run.cwd,
      env: { ...process.env, ...run.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    const stopGroup = () => {
      if (child.pid === undefined || child.exitCode !== null) return
      try { process.kill(-child.pid, "SIGTERM") } catch { /* already gone */ }
      setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL") } catch { /* already gone */ } }, KILL_GRACE_MS).unref()
    }
    signal?.addEventListener("abort", stopGroup, { once: true })
    const onStdout = (line: string) => {
      const event = parseEvent(line)
      if (event === undefined) return keep(line)
      if (event.event === "progress" && typeof event.step === "number") onProgress(event as unknown as TrainerProgress)
      else if (event.event === "resumed" && typeof event.step === "number") resumedFrom = event.step
      else if (event.event === "done") metrics = (event.metrics as Record<string, unknown> | undefined) ?? {}
      else if (event.event === "error") keep(String(event.message ?? line))
      else keep(line)
    }
    lines(child.stdout, onStdout)
    lines(child.stderr, keep)
    child.on("error", (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", stopGroup)
      const reason = error.code === "ENOENT" ? `the program ${run.program} was not found` : `it could not start: ${error.message}`
      reject(new TrainerFailed({ trainer: run.name, reason, output: tail.join("\n") }))
    })
    child.on("close", (code, killedBy) => {
      signal?.removeEventListener("abort", stopGroup)
      if (code === 0) return resolve({ metrics, output: tail.join("\n"), ...(resumedFrom !== undefined ? { resumedFrom } : {}) })
      const reason = signal?.aborted ? "it was cancelled" : killedBy ? `it was killed by ${killedBy}` : code === 127 ? "a program it runs was not found (exit code 127)" : `it exited with code ${code}`
      reject(new TrainerFailed({ trainer: run.name, reason, output: tail.join("\n") }))
    })
  })

const SETPRIV = "/usr/bin/setpriv"

/**
 * The trainer dies with the worker that started it (`setpriv --pdeathsig`, where util-linux has
 * it): when a worker is killed, the retried activity must not find an orphan still writing into
 * the same checkpoint folder.
 */
const tiedToWorker = (program: string, args: readonly string[]): [string, string[]] =>
  existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "SIGKILL", "--", program, ...args]] : [program, [...args]]

const parseEvent = (line: string): Record<string, unknown> | undefined => {
  if (!line.startsWith("{")) return undefined
  try {
    const value = JSON.parse(line) as unknown
    return value !== null && typeof value === "object" && typeof (value as { event?: unknown }).event === "string" ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void): void => {
  let rest = ""
  stream.setEncoding("utf8")
  stream.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n")
    rest = parts.pop() ?? ""
    for (const part of parts) each(part.replace(/\r$/, ""))
  })
  stream.on("end", () => { if (rest) each(rest) })
}

/** Quotes a value for `/bin/sh`. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`

/** The placeholders a trainer command template may use. */
export const COMMAND_PLACEHOLDERS = ["data", "pairs", "base", "out", "work", "settings"] as const
/** One placeholder of a trainer command template. */
export type CommandPlaceholder = (typeof COMMAND_PLACEHOLDERS)[number]

/** The placeholders a template names that winnow does not know (for spec validation). */
export const unknownPlaceholders = (template: string): string[] =>
  [...template.matchAll(/\{([^{}\s]*)\}/g)].map((m) => m[1]!).filter((name) => !(COMMAND_PLACEHOLDERS as readonly string[]).includes(name))

/** A user's trainer command with its placeholders filled in (shell-quoted), run by `/bin/sh -c`. */
export const commandInvocation = (template: string, values: Readonly<Record<CommandPlaceholder, string>>, env?: NodeJS.ProcessEnv): TrainerInvocation => ({
  name: template.split(/\s+/)[0] ?? "command",
  program: "/bin/sh",
  args: ["-c", template.replace(/\{([a-z]+)\}/g, (whole, name: string) => (name in values ? shellQuote(values[name as CommandPlaceholder]) : whole))],
  ...(env ? { env } : {})
})
