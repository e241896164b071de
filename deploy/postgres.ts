import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Logger } from "pino"
import { TemporalUnavailable } from "../core/errors.js"
import { isExecutable } from "../worker/goInstall.js"
import { runToEnd } from "./processes.js"

/** Debian's PostgreSQL on this machine: its binaries and major version. */
export interface PostgresInstall {
  readonly bin: string
  readonly major: number
}

/** The account PostgreSQL runs as when the cluster is started by root (PostgreSQL refuses to run as root). */
export interface PostgresUser {
  readonly uid: number
  readonly gid: number
  readonly home: string
}

const findInstall = (): PostgresInstall | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const majors = readdirSync(root).map(Number).filter((n) => Number.isInteger(n) && isExecutable(join(root, String(n), "bin", "initdb"))).sort((a, b) => b - a)
  return majors.length > 0 ? { bin: join(root, String(majors[0]), "bin"), major: majors[0]! } : undefined
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }

/**
 * Finds Debian's PostgreSQL server, installing the `postgresql` package with apt-get when it is
 * missing (as root; the package lists are refreshed once if the first try cannot find it). Its
 * system service is not used: the cluster runs its own data directory.
 */
export const ensurePostgres = async (log: Logger): Promise<PostgresInstall> => {
  const found = findInstall()
  if (found) return found
  const remedy = "install Debian's postgresql package (apt-get install postgresql) and run scripts/cluster up again"
  if (process.getuid?.() !== 0) throw new TemporalUnavailable({ reason: "PostgreSQL is not installed and only root may install it", remedy })
  log.warn("installing PostgreSQL with apt-get (first run only)")
  const install = ["install", "-y", "--no-install-recommends", "postgresql"]
  let result = await runToEnd("apt-get", install, { env: APT_ENV, timeoutMs: 900_000 })
  if (result.code !== 0) {
    await runToEnd("apt-get", ["update"], { env: APT_ENV, timeoutMs: 900_000 })
    result = await runToEnd("apt-get", install, { env: APT_ENV, timeoutMs: 900_000 })
  }
  const installed = findInstall()
  if (result.code !== 0 || !installed) throw new TemporalUnavailable({ reason: `apt-get could not install postgresql:\n${result.output.split("\n").slice(-8).join("\n")}`, remedy })
  return installed
}

/** The `postgres` account when this process is root (PostgreSQL must not run as root); undefined otherwise. */
export const postgresUser = (): PostgresUser | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"))
  if (!line) throw new TemporalUnavailable({ reason: "running as root, and there is no postgres account to run PostgreSQL as", remedy: "install Debian's postgresql package, which creates it, or run scripts/cluster as another user" })
  const [, , uid, gid, , home] = line.split(":")
  return { uid: Number(uid), gid: Number(gid), home: home! }
}

/**
 * The directory that holds the cluster's PostgreSQL data: `<stateDir>/postgres` when the account
 * that runs PostgreSQL can write there, else a directory of its own under that account's home
 * (a root-owned state directory under /root is out of its reach). Created and owned by that account.
 */
export const postgresRoot = (stateDir: string, user: PostgresUser | undefined): string => {
  const inState = join(stateDir, "postgres")
  mkdirSync(inState, { recursive: true })
  if (!user) return inState
  chownSync(inState, user.uid, user.gid)
  if (spawnSync("test", ["-w", inState, "-a", "-x", inState], { uid: user.uid, gid: user.gid }).status === 0) return inState
  rmSync(inState, { recursive: true, force: true })
  const own = join(user.home, `winnow-cluster-${createHash("sha256").update(stateDir).digest("hex").slice(0, 12)}`)
  mkdirSync(own, { recursive: true })
  chownSync(own, user.uid, user.gid)
  return own
}

/**
 * Creates a PostgreSQL data directory in `root/data` (once) whose superuser is `superuser` with
 * `password`, password authentication over TCP, UTF-8.
 */
export const initDatabase = async (install: PostgresInstall, root: string, user: PostgresUser | undefined, superuser: string, password: string): Promise<string> => {
  const data = join(root, "data")
  if (existsSync(join(data, "PG_VERSION"))) return data
  rmSync(data, { recursive: true, force: true })
  const pwfile = join(root, "pwfile")
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
  if (user) chownSync(pwfile, user.uid, user.gid)
  try {
    const result = await runToEnd(join(install.bin, "initdb"), ["-D", data, "-U", superuser, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C"], { env: { PATH: process.env.PATH, LANG: "C" }, ...(user ? { user } : {}) })
    if (result.code !== 0) {
      rmSync(data, { recursive: true, force: true })
      throw new TemporalUnavailable({ reason: `initdb failed:\n${result.output.split("\n").slice(-8).join("\n")}`, remedy: `check that ${root} is writable by the account that runs PostgreSQL` })
    }
  } finally {
    rmSync(pwfile, { force: true })
  }
  return data
}
