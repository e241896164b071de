import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client, Connection } from "@temporalio/client"
import { historyToJSON } from "@temporalio/common/lib/proto-utils.js"
import { Worker } from "@temporalio/worker"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { repoRoot, startTestWorker, tempDir, uniqueQueue } from "./support/harness.js"

const workflowsPath = fileURLToPath(new URL("../workflows/index.ts", import.meta.url))
const historiesDir = join(repoRoot, "tests/histories")

/**
 * Workflow code must stay deterministic: histories recorded from real runs (fresh ones, and the
 * committed ones from earlier versions of winnow) must replay without a non-determinism error.
 * Set WINNOW_SAVE_HISTORIES=1 to refresh the committed histories after an intended change.
 */
describe("workflow replay", () => {
  let worker: RunningWorker
  let client: Client
  let queue: string

  beforeAll(async () => {
    queue = uniqueQueue("replay")
    worker = await startTestWorker(queue, tempDir("replay"))
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
  })

  it("replays the histories of a fresh two-round campaign and its shard workflows", async () => {
    const handle = await startCampaign(client, queue, loadSpecFile(join(repoRoot, "examples/demo.yaml")))
    await handle.result()
    const first = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId)
    const histories = {
      "campaign-round1": await first.fetchHistory(),
      "campaign-round2": await client.workflow.getHandle(handle.workflowId).fetchHistory(),
      "shard": await client.workflow.getHandle(`${handle.workflowId}-r1-s0`).fetchHistory()
    }
    for (const [name, history] of Object.entries(histories)) {
      await expect(Worker.runReplayHistory({ workflowsPath }, history), name).resolves.toBeUndefined()
      if (process.env.WINNOW_SAVE_HISTORIES === "1") writeFileSync(join(historiesDir, `${name}.json`), historyToJSON(history))
    }
  })

  it("replays the committed histories of earlier winnow versions", async () => {
    const files = existsSync(historiesDir) ? readdirSync(historiesDir).filter((f) => f.endsWith(".json")) : []
    expect(files.length).toBeGreaterThanOrEqual(3)
    for (const file of files) {
      const history = JSON.parse(readFileSync(join(historiesDir, file), "utf8"))
      await expect(Worker.runReplayHistory({ workflowsPath }, history), file).resolves.toBeUndefined()
    }
  })
})
