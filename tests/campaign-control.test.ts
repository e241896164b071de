import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { queryProgress, startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import { specQuery } from "../workflows/control.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { clusterEnv, lastJson, runCli, startTestWorker, tempDir, uniqueQueue, writeDemoSpec } from "./support/harness.js"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("steering a running campaign", () => {
  let home: string
  let queue: string
  let env: Record<string, string>
  let worker: RunningWorker
  let client: Client

  beforeAll(async () => {
    home = tempDir("control")
    queue = uniqueQueue("control")
    env = clusterEnv(queue, home)
    worker = await startTestWorker(queue, home)
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
  })

  it("pauses at shard boundaries across a worker restart, refuses bad changes whole, applies good ones to later shards and records them", async () => {
    const spec = writeDemoSpec(tempDir("control-spec"), "steered", (s) => {
      s.rounds = 1
      s.sharding = { prompts_per_shard: 1, max_concurrent_shards: 1 }
      s.output.dataset = "steered"
    })
    const handle = await startCampaign(client, queue, loadSpecFile(spec))
    const paused = await runCli(["campaign", "pause", handle.workflowId, "--json"], env)
    expect(paused.code, paused.stderr).toBe(0)
    expect(lastJson(paused.stdout)).toMatchObject({ paused: true, revision: 0 })
    await sleep(4000)
    const held = (await queryProgress(handle))!.shardsDone
    await worker.shutdown()
    worker = await startTestWorker(queue, home)
    await sleep(3000)
    expect((await queryProgress(handle))!.shardsDone).toBe(held)
    expect(held).toBeLessThan(10)

    for (const [words, expected] of [
      [["generator.n=0"], "generator.n: got 0, expected a value between 1 and 256"],
      [["generator.model=elsewhere"], "generator.model: got \"elsewhere\", expected one of the settings a running campaign accepts"],
      [["generator.temperature=0.5", "selection.k=0"], "selection.k: got 0"]
    ] as const) {
      const refused = await runCli(["campaign", "set", handle.workflowId, ...words], env)
      expect(refused.code, refused.stderr).toBe(2)
      expect(refused.stderr).toContain(expected)
    }
    expect((await handle.query(specQuery)).generator.temperature).toBe(0.9)

    const changed = await runCli(["campaign", "set", handle.workflowId, "generator.n=2", "generator.temperature=0.5", "--json"], env)
    expect(changed.code, changed.stderr).toBe(0)
    expect(lastJson(changed.stdout)).toMatchObject({ revision: 1, revisions: [{ revision: 1, values: { "generator.n": 2, "generator.temperature": 0.5 } }] })
    expect((await runCli(["campaign", "resume", handle.workflowId], env)).code).toBe(0)
    const result = await handle.result()
    expect(result.generated).toBe(held * 4 + (10 - held) * 2)

    const status = lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], env)).stdout)
    expect(status.revisions).toHaveLength(1)
    const out = join(tempDir("control-pull"), "raw.jsonl")
    expect((await runCli(["dataset", "pull", "steered", "--schema", "raw", "--out", out], env)).code).toBe(0)
    const revisions = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(JSON.parse(line).meta).settings_revision ?? 0)
    expect(new Set(revisions)).toEqual(new Set(held > 0 ? [0, 1] : [1]))
  })
})
