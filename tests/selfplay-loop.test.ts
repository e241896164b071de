import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { stringify } from "yaml"
import { arithmeticKey, generateArithmetic } from "../campaign/promptStage/arithmetic.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { clusterEnv, lastJson, repoRoot, runCli, startTestWorker, tempDir, uniqueQueue } from "./support/harness.js"

/** Arithmetic prompts in Chinese and English, and a held-out set that shares no expression with them. */
const writePrompts = (dir: string): { train: string; held: string } => {
  const train = generateArithmetic({ seed: 11, count: 6, difficulty: 1, langs: ["zh", "en"] })
  const held = generateArithmetic({ seed: 12, count: 4, difficulty: 1, langs: ["en", "zh"], exclude: new Set(train.map((p) => arithmeticKey(p.prompt)!)) })
  const write = (name: string, rows: typeof train) => {
    const path = join(dir, name)
    writeFileSync(path, rows.map((p) => JSON.stringify({ id: p.id, prompt: p.prompt, reference: p.reference })).join("\n") + "\n")
    return path
  }
  return { train: write("train.jsonl", train), held: write("eval.jsonl", held) }
}

/** A two-round loop spec: the tiny trainable model, a verifier, a one-step bundled SFT trainer on `trainQueue`, eval every round. */
const loopSpec = (dir: string, name: string, trainQueue: string, edit: (spec: Record<string, any>) => void = () => {}): string => {
  const { train, held } = writePrompts(dir)
  const spec: Record<string, any> = {
    name,
    prompts: train,
    generator: { model: inject("trainableModel"), n: 2, temperature: 1, top_k: 0, top_p: 1, max_new_tokens: 24, seed: 7 },
    scorers: [{ name: "correct", type: "verifier", check: "answer_match" }],
    selection: { policy: "best_of_n" },
    rounds: 2,
    sharding: { prompts_per_shard: 3 },
    improve: { trainer: "bundled", task_queue: trainQueue, settings: { max_steps: 1, batch_size: 2, save_steps: 1, learning_rate: 0.001 } },
    eval: { prompts: held, n: 2 },
    output: { dataset: name, dedup: { near: false } }
  }
  edit(spec)
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify(spec))
  return path
}

describe("the self-play loop", () => {
  let home: string
  let queue: string
  let trainQueue: string
  let env: Record<string, string>
  let worker: RunningWorker
  let trainer: RunningWorker
  let client: Client
  let first: any

  beforeAll(async () => {
    home = tempDir("loop")
    queue = uniqueQueue("loop")
    trainQueue = `${queue}-train`
    env = clusterEnv(queue, home)
    worker = await startTestWorker(queue, home)
    trainer = await startTestWorker(trainQueue, home)
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
    await trainer?.shutdown()
  })

  it("trains each round's generator on a worker of the trainer queue, evaluates every generator, and names it in each record", async () => {
    const dir = tempDir("loop-spec")
    const run = await runCli(["run", loopSpec(dir, "loop-a", trainQueue), "--json"], env, 600_000)
    expect(run.code, run.stderr).toBe(0)
    first = lastJson(run.stdout)
    expect(first).toMatchObject({ dataset: "loop-a", rounds: 2, generated: 24 })
    expect(first.evals.map((e: { round: number }) => e.round)).toEqual([0, 1, 2])
    expect(first.generator.model_id).toMatch(/^[0-9a-f]{64}$/)

    const models = lastJson((await runCli(["model", "list", "--json"], env)).stdout)
    expect(models).toHaveLength(2)
    const byRound = new Map(models.map((m: any) => [m.campaign.round, m]))
    const [r1, r2] = [byRound.get(1) as any, byRound.get(2) as any]
    expect(r1.base.model_hash).toBe(r2.base.model_hash)
    expect(r1.dataset).toMatchObject({ name: "loop-a", records: 6 })
    expect(r1.trainer).toMatchObject({ kind: "bundled", method: "sft", settings: { max_steps: 1 } })
    expect(r1.metrics.steps).toBe(1)
    expect(existsSync(join(r2.path, "onnx", "model.onnx")) && existsSync(join(r2.path, "model.safetensors"))).toBe(true)
    const shown = await runCli(["model", "show", r1.id.slice(0, 10)], env)
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain("loop-a@")

    const scheduled = []
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${first.campaignId}'` })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()
      for (const event of history.events ?? []) {
        const attrs = event.activityTaskScheduledEventAttributes
        if (attrs?.activityType?.name === "improve") scheduled.push(attrs.taskQueue?.name)
      }
    }
    expect(scheduled).toEqual([trainQueue, trainQueue])

    const out = join(dir, "raw.jsonl")
    expect((await runCli(["dataset", "pull", "loop-a", "--schema", "raw", "--out", out], env)).code).toBe(0)
    const records = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    const generatorOf = (round: number) => new Set(records.filter((r) => r.round === round).map((r) => JSON.parse(r.meta).generator))
    expect([...generatorOf(1)]).toEqual([r1.base.model_hash])
    expect([...generatorOf(2)]).toEqual([r1.model_hash])
    expect(records.every((r) => JSON.parse(r.meta).campaign === first.campaignId)).toBe(true)

    const log = lastJson((await runCli(["dataset", "log", "loop-a", "--json"], env)).stdout)
    expect(log.map((v: any) => v.lineage.eval.round)).toEqual([1, 0])
    expect(log[0].lineage.generator.model_id).toBe(r1.id)
    const status = lastJson((await runCli(["campaign", "status", first.campaignId, "--json"], env)).stdout)
    expect(status.evals).toHaveLength(3)
    expect(status.evals[0].pass_at_k).toHaveProperty("2")
  })

  it("reuses the stored model when the same inputs come again, instead of training twice", async () => {
    const run = await runCli(["run", loopSpec(tempDir("loop-again"), "loop-b", trainQueue), "--json"], env, 600_000)
    expect(run.code, run.stderr).toBe(0)
    const again = lastJson(run.stdout)
    expect(again.generator).toEqual(first.generator)
    expect(again.evals).toEqual(first.evals)
    expect(lastJson((await runCli(["model", "list", "--json"], env)).stdout)).toHaveLength(2)
  })

  it("fails the campaign with the trainer's own last lines when the trainer fails or writes no model, and stores nothing", async () => {
    const dir = tempDir("loop-fail")
    const storedModels = () => (existsSync(join(home, "models")) ? readdirSync(join(home, "models")).filter((name) => name !== "tmp") : [])
    const before = storedModels()
    const trainers: Array<[string, string, string[]]> = [
      ["loop-fail", "echo training on {data} into {out}; echo 'loss exploded at step 3' >&2; exit 3", ["loss exploded at step 3", "exited with code 3"]],
      ["loop-missing", "no-such-trainer --data {data} --out {out}", ["no-such-trainer", "was not found (exit code 127)"]],
      ["loop-silent", "echo pretending to train into {out}", ["wrote no model winnow can load", "pretending to train into"]]
    ]
    for (const [name, command, expected] of trainers) {
      const spec = loopSpec(dir, name, trainQueue, (s) => { s.improve = { trainer: "command", task_queue: trainQueue, command } })
      const run = await runCli(["run", spec], env, 600_000)
      expect(run.code, name).toBe(1)
      for (const text of ["WINNOW_TRAINER_FAILED", ...expected]) expect(run.stderr, name).toContain(text)
    }
    expect(storedModels()).toEqual(before)
    expect(existsSync(join(home, "models", "tmp")) ? readdirSync(join(home, "models", "tmp")) : []).toEqual([])
  })

  it("refuses loop settings that cannot work before anything starts, naming the field", async () => {
    const dir = tempDir("loop-bad")
    const cases: Array<[(spec: Record<string, any>) => void, string]> = [
      [(s) => { s.improve = { trainer: "command" } }, "improve.command"],
      [(s) => { s.improve = { trainer: "command", command: "train --data {data}" } }, "names {out}"],
      [(s) => { s.improve = { method: "dpo" } }, "improve.method"],
      [(s) => { s.scorers = [{ name: "q", type: "heuristic" }] }, "at least one verifier scorer"],
      [(s) => { s.generator.model = join(repoRoot, "examples/models/tiny-chat") }, "holding PyTorch weights"]
    ]
    for (const [edit, expected] of cases) {
      const run = await runCli(["spec", "validate", loopSpec(dir, "loop-bad", trainQueue, edit)], env)
      expect(run.code, expected).toBe(2)
      expect(run.stderr).toContain(expected)
    }
  })
})
