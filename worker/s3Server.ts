import { type ChildProcess, execFile, spawn } from "node:child_process"
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs"
import { delimiter, join } from "node:path"
import { promisify } from "node:util"
import { CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3"
import type { Logger } from "pino"
import { DEFAULTS } from "../core/defaults.js"
import { StoreIoFailed } from "../core/errors.js"
import { toolCache } from "../core/home.js"
import { s3Client } from "../datasets/blobs/s3Blobs.js"
import { freePort, stopProcess } from "./devServer.js"

const run = promisify(execFile)
const MODULE = "github.com/seaweedfs/seaweedfs"
const REMEDY = `install Go 1.26 or newer (it builds SeaweedFS ${DEFAULTS.seaweedfsVersion} from the Go module proxy on first use), or set SEAWEEDFS_PATH to a weed binary`

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const failure = (reason: string) => new StoreIoFailed({ path: "seaweedfs", reason })

/** Where a built `weed` of `version` is cached, outside any repository. */
export const cachedWeedPath = (env: NodeJS.ProcessEnv = process.env, version: string = DEFAULTS.seaweedfsVersion): string =>
  join(toolCache(env), "seaweedfs", version, "weed")

/**
 * Finds SeaweedFS's `weed`: `SEAWEEDFS_PATH`, else the cached build, else builds it (pure Go, no
 * cgo) into the cache. Its module carries a `replace` directive, so `go install module@version`
 * refuses it: the module is downloaded through the module proxy and built as the main module.
 */
export const ensureSeaweedFs = async (log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string> => {
  const explicit = env.SEAWEEDFS_PATH
  if (explicit) {
    if (isExecutable(explicit)) return explicit
    throw failure(`SEAWEEDFS_PATH=${explicit} is not an executable file; ${REMEDY}`)
  }
  const cached = cachedWeedPath(env)
  if (isExecutable(cached)) return cached
  const go = (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, "go")).find(isExecutable)
  if (!go) throw failure(`SeaweedFS is not built and Go is not installed to build it; ${REMEDY}`)
  const dir = join(cached, "..")
  mkdirSync(dir, { recursive: true })
  const out = mkdtempSync(join(dir, ".build-"))
  const goEnv = { ...env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" }
  log.warn({ module: `${MODULE}@${DEFAULTS.seaweedfsVersion}`, target: cached }, "building SeaweedFS (first run only; several minutes on 2 cores, cached afterwards)")
  try {
    const { stdout } = await run(go, ["mod", "download", "-json", `${MODULE}@${DEFAULTS.seaweedfsVersion}`], { env: goEnv, maxBuffer: 16 * 1024 * 1024 })
    const source = (JSON.parse(stdout) as { Dir: string }).Dir
    await run(go, ["build", "-o", join(out, "weed"), "./weed"], { cwd: source, env: goEnv, maxBuffer: 64 * 1024 * 1024 })
    if (!existsSync(cached)) renameSync(join(out, "weed"), cached)
  } catch (e) {
    const detail = (e as { stderr?: string }).stderr?.split("\n").slice(-8).join("\n") || (e as Error).message
    throw failure(`building SeaweedFS failed:\n${detail}\n${REMEDY}`)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
  log.info({ target: cached }, "SeaweedFS built")
  return cached
}

/** A running SeaweedFS with its S3 gateway on loopback. */
export interface S3Server {
  /** The S3 endpoint, `http://127.0.0.1:<port>` (what `AWS_ENDPOINT_URL` takes). */
  readonly endpoint: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly pid: number
  /** The environment a winnow process needs to use this server (add `WINNOW_STORE=s3://<bucket>`). */
  readonly env: Readonly<Record<string, string>>
  /** Creates a bucket (no error if it exists and is ours). */
  createBucket(name: string): Promise<void>
  stop(): Promise<void>
}

/** Options of `startS3Server`; ports default to free ones, credentials to a fixed test pair. */
export interface S3ServerOptions {
  readonly weedPath: string
  readonly dataDir: string
  readonly port?: number
  readonly accessKeyId?: string
  readonly secretAccessKey?: string
  readonly buckets?: readonly string[]
  readonly log: Logger
}

/**
 * Starts `weed mini` (master, volume, filer and S3 gateway in one process) bound to 127.0.0.1,
 * its data in `dataDir`, every port free and chosen here, telemetry, WebDAV, admin UI and the
 * Iceberg/Lance endpoints off, one admin identity from the given credentials; waits until S3
 * answers a signed request, then creates `buckets`. Stop it with `stop()`.
 */
export const startS3Server = async (options: S3ServerOptions): Promise<S3Server> => {
  const accessKeyId = options.accessKeyId ?? "winnow-test"
  const secretAccessKey = options.secretAccessKey ?? "winnow-test-secret"
  const port = options.port ?? (await freePort())
  const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()))
  mkdirSync(options.dataDir, { recursive: true })
  const args = [
    "mini", `-dir=${options.dataDir}`, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
    `-s3.port=${port}`, `-s3.port.grpc=${ports[0]}`, "-s3.port.iceberg=0", "-s3.port.lance=0",
    `-master.port=${ports[1]}`, `-master.port.grpc=${ports[2]}`, "-master.telemetry=false",
    `-volume.port=${ports[3]}`, `-volume.port.grpc=${ports[4]}`,
    `-filer.port=${ports[5]}`, `-filer.port.grpc=${ports[6]}`,
    "-webdav=false", "-admin.ui=false", "-admin.port.legacy=0"
  ]
  const child = spawn(options.weedPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, S3_BUCKET: "" }
  })
  let output = ""
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-6000) }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const endpoint = `http://127.0.0.1:${port}`
  const client = s3Client({ endpoint, region: "us-east-1", credentials: { accessKeyId, secretAccessKey } })
  options.log.debug({ endpoint, dataDir: options.dataDir }, "starting SeaweedFS")
  try {
    await waitUntilServing(client, child, () => output)
  } catch (error) {
    client.destroy()
    await stopProcess(child)
    throw error
  }
  const createBucket = async (name: string) => {
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }))
    } catch (error) {
      if ((error as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw error
    }
  }
  for (const bucket of options.buckets ?? []) await createBucket(bucket)
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    pid: child.pid!,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: "us-east-1" },
    createBucket,
    stop: async () => {
      client.destroy()
      await stopProcess(child)
    }
  }
}

const waitUntilServing = async (client: ReturnType<typeof s3Client>, child: ChildProcess, output: () => string): Promise<void> => {
  const deadline = Date.now() + 120_000
  let exited: number | null = null
  child.once("exit", (code) => { exited = code ?? -1 })
  let last = ""
  while (Date.now() < deadline) {
    if (exited !== null) throw failure(`SeaweedFS exited with code ${exited}: ${output().trim()}`)
    try {
      await client.send(new ListBucketsCommand({}))
      return
    } catch (error) {
      last = String((error as Error).message)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw failure(`SeaweedFS's S3 gateway did not answer within 120 s (${last}): ${output().trim()}`)
}
