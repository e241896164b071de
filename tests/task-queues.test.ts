import { spawn } from "node:child_process"
import { join } from "node:path"
import pino from "pino"
import { afterAll, describe, expect, inject, it } from "vitest"
import { defaultPoolOptions } from "../models/inferencePool.js"
import { type RunningWorker, startWorker } from "../worker/temporalWorker.js"
import { clusterEnv, lastJson, repoRoot, runCli, tempDir, uniqueQueue, writeDemoSpec, pulledRecords, until } from "./support/harness.js"

describe("task queues split by kind of work", () => {
  const home = tempDir("queues")
  const workflows = uniqueQueue("wf")
  const generation = uniqueQueue("gen")
  const scoring = uniqueQueue("score")
  const store = uniqueQueue("store")
  const env = clusterEnv(workflows, home)
  const stops: Array<() => Promise<void>> = []
  afterAll(async () => { for (const stop of stops) await stop() })

  it("sends each kind to its queue, shows which queue waits on what, and commits what a one-queue run commits", async () => {
    const dir = tempDir("queue-specs")
    const spec = writeDemoSpec(dir, "split", (s) => { s.output.dataset = "split"; s.rounds = 1; s.task_queues = { generation, store } })
    const main: RunningWorker = await startWorker({ address: inject("temporalAddress"), namespace: "default", taskQueue: workflows, alsoServe: [store], home, pool: defaultPoolOptions(), logger: pino({ level: "error" }) })
    stops.push(() => main.shutdown())

    const badEnv = await runCli(["campaign", "start", spec, "--json"], { ...env, WINNOW_SCORING_QUEUE: "no spaces allowed" })
    expect(badEnv.code).toBe(2)
    expect(badEnv.stderr).toContain("WINNOW_SCORING_QUEUE")
    const badFlag = await runCli(["worker", "--queues", ",,"], env)
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toContain("--queues")

    const start = await runCli(["campaign", "start", spec, "--json"], { ...env, WINNOW_SCORING_QUEUE: scoring })
    expect(start.code, start.stderr).toBe(0)
    const { campaignId } = JSON.parse(start.stdout)
    const waiting = await until(async () => {
      const view = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
      const gen = view.queues?.find((q: { queue: string }) => q.queue === generation)
      return gen?.waiting?.generate > 0 ? view : undefined
    })
    const genQueue = waiting.queues.find((q: { queue: string }) => q.queue === generation)
    expect(genQueue).toMatchObject({ carries: ["generation"], pollers: 0 })
    expect(waiting.queues.find((q: { queue: string }) => q.queue === workflows).pollers).toBeGreaterThan(0)

    const gpu = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "worker", "--task-queue", generation, "--queues", scoring, "--threads", "1"], {
      env: { ...process.env, ...env, WINNOW_LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "pipe"]
    })
    const gpuExit = new Promise<void>((resolve) => gpu.once("exit", () => resolve()))
    stops.push(async () => { gpu.kill("SIGTERM"); await gpuExit })
    const done = await until(async () => {
      const view = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
      return view.status === "COMPLETED" ? view : undefined
    })
    expect(done.result).toMatchObject({ generated: 40, accepted: 10 })

    const history = lastJson((await runCli(["campaign", "history", campaignId, "--json"], env)).stdout)
    const queuesOf = Object.fromEntries(history.activities.map((a: { activity: string; queues: string[] }) => [a.activity, a.queues]))
    expect(queuesOf.generate).toEqual([generation])
    expect(queuesOf.score).toEqual([scoring])
    for (const activity of ["prepare", "select", "stage", "roundStats", "commit"]) expect(queuesOf[activity], activity).toEqual([store])

    const single = writeDemoSpec(dir, "single", (s) => { s.output.dataset = "single"; s.rounds = 1 })
    const one = await runCli(["campaign", "start", single, "--wait", "--json"], env)
    expect(one.code, one.stderr).toBe(0)
    const pulled = [await pulledRecords(env, "split", dir), await pulledRecords(env, "single", dir)]
    expect(pulled[0]).toHaveLength(10)
    expect(pulled[0]).toEqual(pulled[1])
  }, 420_000)
})
