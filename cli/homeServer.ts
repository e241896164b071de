import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"

/**
 * A winnow home has one Temporal database (`temporal/dev.db`), so every campaign run on this
 * machine — by `winnow dev`, by an embedded `winnow run`, by a worker of either — stays in one
 * history that `campaign list/status/history` and the Web UI can read afterwards. Whichever process
 * serves that database writes `temporal/dev.json`; other commands use its server while it lives.
 */

/** Who serves the home's database: `winnow dev`, an embedded `winnow run`, or a short-lived read-only server of a `campaign status`-like command. */
export type ServerKind = "dev" | "embedded" | "inspect"

/** What the process that serves the home's database records, so other commands use its server. */
export interface DevRecord {
  readonly address: string
  readonly uiUrl: string | undefined
  readonly pid: number
  readonly taskQueue: string
  /** Absent in records written before embedded runs shared the database: `dev`. */
  readonly kind?: ServerKind
}

/** The home's Temporal database (SQLite). */
export const homeDbPath = (home: string): string => join(home, "temporal", "dev.db")

/** Path of the record left by the process serving the home's database. */
export const devRecordPath = (home: string): string => join(home, "temporal", "dev.json")

/** True when a process with this pid exists. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const readRecord = (path: string): DevRecord | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DevRecord
  } catch {
    return undefined
  }
}

/** The live server of this home's database, if any (a record left by a dead process is removed). */
export const runningDev = (home: string): DevRecord | undefined => {
  const path = devRecordPath(home)
  if (!existsSync(path)) return undefined
  const record = readRecord(path)
  if (record && alive(record.pid)) return record
  rmSync(path, { force: true })
  return undefined
}

/** A claim on the home's database: fill in the server's address once it answers; release when it stops. */
export interface DbClaim {
  readonly file: string
  publish(record: Omit<DevRecord, "pid" | "kind">): void
  release(): void
}

/**
 * Claims the home's database for a server of `kind`, atomically (the record file is created with
 * O_EXCL). Returns undefined while another live process serves it.
 */
export const claimHomeDb = (home: string, kind: ServerKind): DbClaim | undefined => {
  const path = devRecordPath(home)
  mkdirSync(join(home, "temporal"), { recursive: true })
  for (let tries = 0; tries < 2; tries++) {
    let fd: number
    try {
      fd = openSync(path, "wx")
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      if (runningDev(home)) return undefined
      continue
    }
    closeSync(fd)
    const write = (record: DevRecord) => {
      const out = openSync(path, "w")
      try { writeSync(out, JSON.stringify(record)) } finally { closeSync(out) }
    }
    write({ address: "", uiUrl: undefined, pid: process.pid, taskQueue: "", kind })
    return {
      file: homeDbPath(home),
      publish: (record) => write({ ...record, pid: process.pid, kind }),
      release: () => {
        if (readRecord(path)?.pid === process.pid) rmSync(path, { force: true })
      }
    }
  }
  return undefined
}

/** Waits up to `ms` for a claim, for commands that may find a short-lived inspecting server in the way. */
export const claimHomeDbWithin = async (home: string, kind: ServerKind, ms: number): Promise<DbClaim | undefined> => {
  const deadline = Date.now() + ms
  for (;;) {
    const claim = claimHomeDb(home, kind)
    if (claim || Date.now() >= deadline) return claim
    const holder = runningDev(home)
    if (holder && holder.kind !== "inspect") return undefined
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The live server of this home's database once it answers (waits while one is still starting). */
export const servingDev = async (home: string, waitMs = 90_000): Promise<DevRecord | undefined> => {
  const deadline = Date.now() + waitMs
  for (;;) {
    const record = runningDev(home)
    if (!record || record.address !== "" || Date.now() >= deadline) return record?.address ? record : undefined
    await new Promise((r) => setTimeout(r, 250))
  }
}
