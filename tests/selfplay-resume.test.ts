import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection, type WorkflowHandle } from "@temporalio/client"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { stringify } from "yaml"
import { generateArithmetic } from "../campaign/promptStage/arithmetic.js"
import { startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { clusterEnv, lastJson, repoRoot, runCli, startTestWorker, tempDir, uniqueQueue } from "./support/harness.js"

/**
 * A one-round spec whose improve step trains long enough (30 steps, a checkpoint each) to be
 * interrupted; its own prompt seed, since the same data would find the model already trained.
 */
const longTrainingSpec = (dir: string, name: string, trainQueue: string, seed: number): string => {
  const prompts = join(dir, "prompts.jsonl")
  writeFileSync(prompts, generateArithmetic({ seed, count: 4, difficulty: 1, langs: ["zh", "en"] }).map((p) => JSON.stringify({ prompt: p.prompt, reference: p.reference })).join("\n") + "\n")
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify({
    name,
    prompts,
    generator: { model: inject("trainableModel"), n: 2, max_new_tokens: 16, seed: 3 },
    scorers: [{ name: "correct", type: "verifier", check: "answer_match" }],
    improve: { task_queue: trainQueue, heartbeat_seconds: 5, settings: { max_steps: 30, save_steps: 1, save_total_limit: 2, batch_size: 2 } },
    output: { dataset: name, dedup: { near: false } }
  }))
  return path
}

/** `winnow worker` as a process of its own on a queue, as a GPU box would run it. */
const startWorkerProcess = (queue: string, home: string): ChildProcess =>
  spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "worker", "--task-queue", queue, "--threads", "1"], {
    env: { ...process.env, ...clusterEnv(queue, home), WINNOW_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"]
  })

/**
 * Waits until the campaign's trainer has written checkpoint `step` or a later one (polled on disk
 * every 10 ms: heartbeats arrive every few seconds, and on an idle machine the whole training can
 * finish between two of them). Returns the step found.
 */
const trainingReaches = async (handle: WorkflowHandle, home: string, step: number): Promise<number> => {
  const checkpoints = join(home, "store", "work", handle.workflowId, "train-1", "checkpoints")
  const deadline = Date.now() + 300_000
  for (let i = 0; Date.now() < deadline; i++) {
    const found = existsSync(checkpoints) ? readdirSync(checkpoints).flatMap((name) => /^checkpoint-(\d+)$/.exec(name)?.[1] ?? []).map(Number) : []
    const latest = Math.max(0, ...found)
    if (latest >= step) return latest
    if (i % 100 === 99) {
      const description = await handle.describe()
      if (description.status.name !== "RUNNING") throw new Error(`the campaign ended (${description.status.name}) before training reached step ${step}: ${JSON.stringify(await handle.result().catch((e) => e.cause?.cause?.message ?? e.message))}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`training never reached step ${step}`)
}

/** Trainer processes still running for a campaign (its checkpoint folder is on their command line). */
const trainersOf = (campaignId: string): string[] =>
  execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).split("\n").filter((line) => line.includes(campaignId) && line.includes("train.py"))

const gone = async (campaignId: string): Promise<string[]> => {
  for (let i = 0; i < 60 && trainersOf(campaignId).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 250))
  return trainersOf(campaignId)
}

describe("the improve step on a trainer worker of its own", () => {
  let home: string
  let queue: string
  let trainQueue: string
  let worker: RunningWorker
  let client: Client
  const processes: ChildProcess[] = []

  beforeAll(async () => {
    home = tempDir("resume")
    queue = uniqueQueue("resume")
    trainQueue = `${queue}-train`
    worker = await startTestWorker(queue, home)
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    for (const child of processes) child.kill("SIGKILL")
    await client?.connection.close()
    await worker?.shutdown()
  })

  it("resumes from the last checkpoint on another worker after the first is killed mid-training", async () => {
    const first = startWorkerProcess(trainQueue, home)
    processes.push(first)
    const handle = await startCampaign(client, queue, loadSpecFile(longTrainingSpec(tempDir("resume-spec"), "resume", trainQueue, 5)))
    const reached = await trainingReaches(handle, home, 4)
    first.kill("SIGKILL")
    expect(await gone(handle.workflowId)).toEqual([])
    processes.push(startWorkerProcess(trainQueue, home))
    const result = await handle.result()
    expect(result.generator?.model_id).toMatch(/^[0-9a-f]{64}$/)
    const model = lastJson((await runCli(["model", "show", result.generator!.model_id!, "--json"], clusterEnv(queue, home))).stdout)
    expect(model.resumed_from_step).toBeGreaterThanOrEqual(reached - 1)
    expect(model.metrics.steps).toBe(30)
  })

  it("stops the trainer when the campaign is cancelled mid-training", async () => {
    processes.push(startWorkerProcess(trainQueue, home))
    const handle = await startCampaign(client, queue, loadSpecFile(longTrainingSpec(tempDir("cancel-spec"), "cancelled", trainQueue, 6)))
    await trainingReaches(handle, home, 2)
    expect(trainersOf(handle.workflowId).length).toBeGreaterThan(0)
    await handle.cancel()
    await expect(handle.result()).rejects.toThrow()
    expect(await gone(handle.workflowId)).toEqual([])
    const status = lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], clusterEnv(queue, home))).stdout)
    expect(status.status).toBe("CANCELLED")
  })
})
