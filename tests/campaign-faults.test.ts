import { existsSync, readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import { storeRoot } from "../core/home.js"
import type { DatasetRecord } from "../datasets/record.js"
import { storeLayout } from "../datasets/layout.js"
import { DatasetStore } from "../datasets/store.js"
import { closedAttempt, committedRecords, holdHeadLock, spawnWorkerProcess, untilRunning, type WorkerProcess } from "./support/faults.js"
import { killDevServer, startOwnDevServer, tempDir, uniqueQueue, writeDemoSpec } from "./support/harness.js"

/**
 * Fault tests: a `winnow worker` process SIGKILLed while it generates or while it commits, and
 * the Temporal dev server SIGKILLed and started again on its database file. Each time the
 * campaign must finish by itself, with exactly the records of an undisturbed run of the same
 * spec. The moments to kill are read from Temporal's pending activities (and, for the commit,
 * from the store), never guessed with sleeps.
 */

const DATASET = "faults"
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The demo campaign, one round of two shards of five prompts, 64 samples each (generation lasts seconds). */
const faultSpec = (): string => writeDemoSpec(tempDir("faults-spec"), "faults", (s) => {
  s.rounds = 1
  s.generator.n = 64
  s.sharding = { prompts_per_shard: 5, max_concurrent_shards: 1 }
  s.output.dataset = DATASET
})

describe("a campaign survives the death of its worker or of the Temporal server", () => {
  const address = inject("temporalAddress")
  const workers: WorkerProcess[] = []
  const worker = (home: string, queue: string, at = address) => {
    const started = spawnWorkerProcess({ address: at, queue, home })
    workers.push(started)
    return started
  }
  let client: Client
  let spec: string
  let undisturbed: DatasetRecord[]

  /** Runs the spec to the end and returns its committed records, failing with the workers' logs if it fails. */
  const finish = async (handle: { result(): Promise<unknown> }, home: string) => {
    await handle.result().catch((error) => { throw new Error(`${error}\n${workers.map((w) => w.log()).join("\n")}`) })
    return committedRecords(home, DATASET)
  }

  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address }) })
    spec = faultSpec()
    const home = tempDir("faults-base")
    const queue = uniqueQueue("faults-base")
    const only = worker(home, queue)
    undisturbed = await finish(await startCampaign(client, queue, loadSpecFile(spec)), home)
    await only.kill()
    expect(undisturbed.length).toBe(10)
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()))
    await client?.connection.close()
  })

  it("finishes with the same records after the worker is killed during generation", async () => {
    const home = tempDir("faults-gen")
    const queue = uniqueQueue("faults-gen")
    const first = worker(home, queue)
    const handle = await startCampaign(client, queue, loadSpecFile(spec))
    const generating = await untilRunning(client, handle.workflowId, (a) => a.type === "generate" && a.worker === first.identity)
    await first.kill()
    const second = worker(home, queue)
    expect(await finish(handle, home)).toEqual(undisturbed)
    const rerun = await closedAttempt(client, generating.workflowId, generating.activityId)
    expect(rerun).toMatchObject({ worker: second.identity })
    expect(rerun!.attempt).toBeGreaterThan(generating.attempt)
  })

  it("finishes with the same records, in one version, after the worker is killed inside the commit", async () => {
    const home = tempDir("faults-commit")
    const queue = uniqueQueue("faults-commit")
    const versions = dirname(storeLayout(storeRoot(home)).versionPath(DATASET, "x"))
    const lock = holdHeadLock(home, DATASET)
    const first = worker(home, queue)
    const handle = await startCampaign(client, queue, loadSpecFile(spec))
    const committing = await untilRunning(client, handle.workflowId, (a) => a.type === "commit", 150_000)
    // The commit has written its manifest and waits for HEAD: the worker dies between the two.
    while (!existsSync(versions) || readdirSync(versions).length === 0) await sleep(100)
    await first.kill()
    lock.release()
    const second = worker(home, queue)
    expect(await finish(handle, home)).toEqual(undisturbed)
    expect(await closedAttempt(client, handle.workflowId, committing.activityId)).toMatchObject({ worker: second.identity })
    const log = await Effect.runPromise(DatasetStore.make(storeRoot(home)).log(DATASET))
    expect(log.map((v) => v.manifest.counts.records)).toEqual([10])
  })

  it("finishes with the same records after the Temporal server is killed during generation and restarted on its database", async () => {
    const home = tempDir("faults-server")
    const queue = uniqueQueue("faults-server")
    const dbFile = join(tempDir("faults-db"), "temporal.db")
    let server = await startOwnDevServer(dbFile)
    const port = Number(server.address.split(":").at(-1))
    const own = new Client({ connection: await Connection.connect({ address: server.address }) })
    try {
      const first = worker(home, queue, server.address)
      const handle = await startCampaign(own, queue, loadSpecFile(spec))
      await untilRunning(own, handle.workflowId, (a) => a.type === "generate")
      await killDevServer(server)
      server = await startOwnDevServer(dbFile, port)
      // The worker reconnects by itself; only if it gives up does another take over.
      let settled = false
      void first.exited.then(() => { if (!settled) worker(home, queue, server.address) })
      expect(await finish(own.workflow.getHandle(handle.workflowId), home)).toEqual(undisturbed)
      settled = true
    } finally {
      await Promise.all(workers.map((w) => w.kill()))
      await own.connection.close()
      await server.stop()
    }
  })
})
