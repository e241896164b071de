import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { pino } from "pino"
import type { TestProject } from "vitest/node"
import { TRAINER_PACKAGES } from "../../trainers/packages.js"
import { ensurePythonEnv } from "../../trainers/pythonEnv.js"
import { ensureTemporalServer } from "../../deploy/temporalServer.js"
import { startDevServer } from "../../worker/devServer.js"
import { ensureSeaweedFs, startS3Server } from "../../worker/s3Server.js"
import { ensureTemporalCli } from "../../worker/temporalCli.js"

const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

declare module "vitest" {
  export interface ProvidedContext {
    temporalAddress: string
    temporalCliPath: string
    /** The bundled trainer's pinned Python environment. */
    trainerPython: string
    /** A tiny trainable generator (PyTorch weights beside its ONNX export), built for this run. */
    trainableModel: string
    /** A real S3-compatible server (SeaweedFS) on loopback: endpoint and its one identity. */
    s3Endpoint: string
    s3AccessKeyId: string
    s3SecretAccessKey: string
  }
}

/**
 * A tiny trainable generator, built by the self-play bench's own script (random weights, the
 * arithmetic task's tokenizer, ChatML): what the loop tests train and sample from.
 */
const buildTrainableModel = async (python: string, dir: string): Promise<string> => {
  const out = join(dir, "tiny-trainable")
  await promisify(execFile)(python, [join(repoRoot, "bench/selfplay/make_base.py"), "--out", out, "--tiny"], {
    env: { ...process.env, PYTHONHASHSEED: "0", CUDA_VISIBLE_DEVICES: "" },
    maxBuffer: 64 * 1024 * 1024
  })
  return out
}

/**
 * Starts one real Temporal dev server for the whole test run (building the Temporal CLI from
 * the Go module proxy on first use), one real S3-compatible server (SeaweedFS, built the same
 * way; each test makes its own buckets) and, alongside, the trainer's pinned Python environment, a
 * tiny trainable model and the Temporal server that `scripts/cluster` runs on PostgreSQL (built
 * once, cached); hands their addresses to every test. No server, no tests: a missing Go
 * toolchain fails the run with a message that says how to get one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: "info" }, pino.destination(2))
  const dir = mkdtempSync(join(tmpdir(), "winnow-temporal-"))
  const trainer = ensurePythonEnv(TRAINER_PACKAGES, (line) => log.info(line)).then(async (python) => ({ python, model: await buildTrainableModel(python, dir) }))
  const weed = ensureSeaweedFs(log)
  weed.catch(() => undefined)
  const cliPath = await ensureTemporalCli(log)
  // Built here rather than inside tests/cluster.test.ts, so the build never starves a running test.
  const clusterServer = ensureTemporalServer(log)
  clusterServer.catch(() => undefined)
  const server = await startDevServer({ cliPath, dbFile: join(dir, "test.db"), ui: false, log })
  const [trained, s3Started, built] = await Promise.allSettled([trainer, weed.then((weedPath) => startS3Server({ weedPath, dataDir: join(dir, "s3"), log })), clusterServer])
  if (trained.status === "rejected" || s3Started.status === "rejected" || built.status === "rejected") {
    await server.stop()
    if (s3Started.status === "fulfilled") await s3Started.value.stop()
    throw trained.status === "rejected" ? trained.reason : s3Started.status === "rejected" ? s3Started.reason : (built as PromiseRejectedResult).reason
  }
  const { python, model } = trained.value
  const s3 = s3Started.value
  project.provide("temporalAddress", server.address)
  project.provide("temporalCliPath", cliPath)
  project.provide("trainerPython", python)
  project.provide("trainableModel", model)
  project.provide("s3Endpoint", s3.endpoint)
  project.provide("s3AccessKeyId", s3.accessKeyId)
  project.provide("s3SecretAccessKey", s3.secretAccessKey)
  return async () => {
    await s3.stop()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
