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
 * the Go module proxy on first use) and, alongside, the trainer's pinned Python environment, a
 * tiny trainable model and the Temporal server that `scripts/cluster` runs on PostgreSQL (built
 * once, cached); hands their addresses to every test. No server, no tests: a missing Go
 * toolchain fails the run with a message that says how to get one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: "info" }, pino.destination(2))
  const dir = mkdtempSync(join(tmpdir(), "winnow-temporal-"))
  const trainer = ensurePythonEnv(TRAINER_PACKAGES, (line) => log.info(line)).then(async (python) => ({ python, model: await buildTrainableModel(python, dir) }))
  const cliPath = await ensureTemporalCli(log)
  // Built here rather than inside tests/cluster.test.ts, so the build never starves a running test.
  const clusterServer = ensureTemporalServer(log)
  clusterServer.catch(() => undefined)
  const server = await startDevServer({ cliPath, dbFile: join(dir, "test.db"), ui: false, log })
  const { python, model } = await Promise.all([trainer, clusterServer]).then(([t]) => t).catch(async (error) => {
    await server.stop()
    throw error
  })
  project.provide("temporalAddress", server.address)
  project.provide("temporalCliPath", cliPath)
  project.provide("trainerPython", python)
  project.provide("trainableModel", model)
  return async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
