import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client, Connection } from "@temporalio/client"
import { Worker } from "@temporalio/worker"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { RoundStats } from "../campaign/contracts.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startTestCluster, writeDemoSpec } from "./support/harness.js"

const workflowsPath = fileURLToPath(new URL("../workflows/index.ts", import.meta.url))

/** The demo spec with absolute paths, writing to a dataset of its own name. */
const demoSpec = (dir: string, name: string, edit: (spec: Record<string, any>) => void): string =>
  writeDemoSpec(dir, name, (spec) => {
    spec.output.dataset = name
    edit(spec)
  })

describe("selection policies and accept-until-K on the real Temporal server", () => {
  let worker: RunningWorker
  let dir: string
  let env: Record<string, string>
  let client: Client

  beforeAll(async () => {
    ;({ home: dir, env, worker } = await startTestCluster("selection"))
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
  })

  /** Runs a spec; exit 0, or 3 when the campaign says it fell short (`outcome`). */
  const run = async (spec: string, exit = 0) => {
    const result = await runCli(["run", spec, "--json"], env)
    expect(result.code, result.stderr).toBe(exit)
    return lastJson(result.stdout)
  }

  it("stops at K accepted records, shrinking the last shard instead of generating the whole round", async () => {
    const summary = await run(demoSpec(dir, "until-six", (s) => {
      s.rounds = 3
      s.selection = { policy: "best_of_n", k: 1, accept_until: 6 }
    }))
    expect(summary).toMatchObject({ accepted: 6, kept: 6, generated: 24, rounds: 1 })
    const show = await runCli(["dataset", "show", "until-six", "--json"], env)
    expect(JSON.parse(show.stdout).counts.records).toBe(6)

    const status = await runCli(["campaign", "status", summary.campaignId, "--json"], env)
    const view = JSON.parse(status.stdout)
    expect(view).toMatchObject({ acceptUntil: 6, accepted: 6, shardsDone: 2, shardsTotal: 4 })
    const stats = view.stats as RoundStats[]
    expect(stats).toHaveLength(1)
    expect(stats[0]).toMatchObject({ round: 1, samples: 24, prompts: 6, accepted: 6, acceptance_rate: 0.25 })

    const history = await client.workflow.getHandle(summary.campaignId).fetchHistory()
    await expect(Worker.runReplayHistory({ workflowsPath }, history)).resolves.toBeUndefined()
  })

  it("caps records inside the last shard under a threshold policy", async () => {
    const summary = await run(demoSpec(dir, "until-ten", (s) => {
      s.selection = { policy: "threshold", min_score: -1000, accept_until: 10 }
    }))
    expect(summary).toMatchObject({ accepted: 10, generated: 12, rounds: 1 })
  })

  it("counts accept_until after commit-time dedup, so later rounds top up what dedup removed", async () => {
    const summary = await run(demoSpec(dir, "until-kept", (s) => {
      s.rounds = 3
      s.generator.temperature = 0
      s.selection = { policy: "threshold", min_score: -1000, accept_until: 10 }
    }), 3)
    expect(summary.outcome).toBe("short")
    expect(summary.reason).toContain("of the 10 records selection.accept_until asks for")
    const show = await runCli(["dataset", "show", "until-kept", "--json"], env)
    const records = JSON.parse(show.stdout).counts.records as number
    expect(records).toBeLessThan(10)
    expect(summary).toMatchObject({ kept: records, rounds: 3 })
    expect(summary.accepted).toBeGreaterThan(10)

    const status = await runCli(["campaign", "status", summary.campaignId, "--json"], env)
    const view = JSON.parse(status.stdout)
    expect(view.versions.map((v: { added: number }) => v.added).reduce((a: number, b: number) => a + b, 0)).toBe(records)
    const history = await client.workflow.getHandle(summary.campaignId).fetchHistory()
    await expect(Worker.runReplayHistory({ workflowsPath }, history)).resolves.toBeUndefined()
  })

  it("writes preference pairs as DPO records, applies hard filters, and shows round statistics", async () => {
    const spec = demoSpec(dir, "pairs", (s) => {
      s.rounds = 1
      s.scorers[0].normalize = "zscore"
      s.scorers.push({ name: "not_empty", type: "heuristic", metric: "length_chars", filter: { min: 1 } })
      s.selection = { policy: "preference_pairs", rejected: "sampled", min_margin: 0.01 }
    })
    const summary = await run(spec)
    expect(summary.accepted).toBeGreaterThan(0)
    expect(summary.accepted).toBeLessThanOrEqual(10)
    const out = join(dir, "pairs.jsonl")
    const pull = await runCli(["dataset", "pull", "pairs", "--schema", "dpo", "--out", out], env)
    expect(pull.code, pull.stderr).toBe(0)
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(rows).toHaveLength(summary.accepted)
    for (const row of rows) {
      expect(row.chosen.at(-1).role).toBe("assistant")
      expect(row.rejected.at(-1).role).toBe("assistant")
      expect(row.chosen.at(-1).content).not.toBe(row.rejected.at(-1).content)
      expect(row.score_chosen - row.score_rejected).toBeGreaterThanOrEqual(0.01)
    }

    const status = await runCli(["campaign", "status", summary.campaignId, "--json"], env)
    const stats = (JSON.parse(status.stdout).stats as RoundStats[])[0]!
    expect(Object.keys(stats.scores)).toEqual(["reward", "quality", "not_empty"])
    expect(stats.samples).toBe(40)
    expect(stats.accepted).toBe(summary.accepted)
    expect(stats.combined.best_of_n_gain).toBeGreaterThan(0)
    expect(stats.scores.quality!.all!.count).toBe(40)
    expect(stats.scores.reward!.accepted!.count).toBe(summary.accepted)
    expect(stats.distinct_1).toBeGreaterThan(0)
    const human = await runCli(["campaign", "status", summary.campaignId], env)
    expect(human.stdout).toContain("BEST-OF-N GAIN")
    expect(human.stdout).toMatch(/round 1: 40 samples over 10 prompts/)

    const again = await run(spec, 3)
    expect(again).toMatchObject({ outcome: "empty", kept: 0 })
    const out2 = join(dir, "pairs2.jsonl")
    expect((await runCli(["dataset", "pull", "pairs", "--schema", "dpo", "--out", out2], env)).code).toBe(0)
    expect(again.accepted).toBe(summary.accepted)
    expect(readFileSync(out2, "utf8")).toBe(readFileSync(out, "utf8"))
  })
})
