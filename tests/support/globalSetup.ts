import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import type { TestProject } from "vitest/node"
import { startDevServer } from "../../worker/devServer.js"
import { ensureTemporalCli } from "../../worker/temporalCli.js"

declare module "vitest" {
  export interface ProvidedContext {
    temporalAddress: string
    temporalCliPath: string
  }
}

/**
 * Starts one real Temporal dev server for the whole test run (building the Temporal CLI from
 * the Go module proxy on first use) and hands its address to every test. No server, no tests:
 * a missing Go toolchain fails the run with a message that says how to get one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: "info" }, pino.destination(2))
  const cliPath = await ensureTemporalCli(log)
  const dir = mkdtempSync(join(tmpdir(), "winnow-temporal-"))
  const server = await startDevServer({ cliPath, dbFile: join(dir, "test.db"), ui: false, log })
  project.provide("temporalAddress", server.address)
  project.provide("temporalCliPath", cliPath)
  return async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
