import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client, Connection } from "@temporalio/client"
import { historyToJSON } from "@temporalio/common/lib/proto-utils.js"
import { Worker } from "@temporalio/worker"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, repoRoot, runCli, startTestCluster, writeDemoSpec } from "./support/harness.js"

const workflowsPath = fileURLToPath(new URL("../workflows/index.ts", import.meta.url))

/** The preference-pair selection both the two-output campaign and the pairs-only one use. */
const PAIRS = { policy: "preference_pairs", rejected: "sampled", min_margin: 0.01 }

/**
 * One campaign writing two datasets from the same samples (best-of-N SFT records and preference
 * pairs) against the same spec run twice with one output each: the same records land in each
 * dataset, and each shard sampled once.
 */
describe("a campaign with several outputs on the real Temporal server", () => {
  let worker: RunningWorker
  let dir: string
  let env: Record<string, string>
  let client: Client

  beforeAll(async () => {
    ;({ home: dir, env, worker } = await startTestCluster("outputs"))
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
  })

  const run = async (name: string, edit: (spec: Record<string, any>) => void) => {
    const result = await runCli(["run", writeDemoSpec(dir, name, edit), "--json"], env)
    expect(result.code, result.stderr).toBe(0)
    return lastJson(result.stdout)
  }

  /** A dataset's rows in `schema` without their provenance (which names the campaign), by id. */
  const rowsOf = async (dataset: string, schema: "sft" | "dpo") => {
    const out = join(dir, `${dataset}.${schema}.jsonl`)
    const pulled = await runCli(["dataset", "pull", dataset, "--schema", schema, "--out", out], env)
    expect(pulled.code, pulled.stderr).toBe(0)
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    return {
      provenance: rows.map((row) => ({ round: row.round, ...row.provenance })),
      records: rows.map(({ provenance: _, ...row }) => row).sort((a, b) => (a.id < b.id ? -1 : 1))
    }
  }

  /** The versions of a dataset, oldest first. */
  const logOf = async (dataset: string) => {
    const log = await runCli(["dataset", "log", dataset, "--json"], env)
    expect(log.code, log.stderr).toBe(0)
    return (JSON.parse(log.stdout) as Array<{ id: string }>).reverse()
  }

  /** Activities each shard workflow of a campaign scheduled, by type, read from its history (with `replayAs`, the last round's first shard replayed). */
  const shardActivities = async (campaignId: string, rounds: number, shards: number, replayAs?: string) => {
    const counts: Array<Record<string, number>> = []
    for (let round = 1; round <= rounds; round++) {
      for (let shard = 0; shard < shards; shard++) {
        const history = await client.workflow.getHandle(`${campaignId}-r${round}-s${shard}`).fetchHistory()
        const byType: Record<string, number> = {}
        for (const event of history.events ?? []) {
          const type = event.activityTaskScheduledEventAttributes?.activityType?.name
          if (type) byType[type] = (byType[type] ?? 0) + 1
        }
        counts.push(byType)
        if (replayAs !== undefined && round === rounds && shard === 0) await replay(replayAs, history)
      }
    }
    return counts
  }

  it("commits best-of-N records and preference pairs into two datasets from one sampling, as two single-output campaigns would", async () => {
    const both = await run("both", (s) => {
      s.output.dataset = "both-sft"
      s.outputs = [{ dataset: "both-pairs", selection: PAIRS }]
    })
    const sftOnly = await run("sft-only", (s) => { s.output.dataset = "sft-only" })
    const pairsOnly = await run("pairs-only", (s) => {
      s.output.dataset = "pairs-only"
      s.selection = PAIRS
    })

    expect(both).toMatchObject({ dataset: "both-sft", rounds: 2, generated: sftOnly.generated, accepted: sftOnly.accepted, kept: sftOnly.kept })
    expect(both.outputs).toEqual([{ dataset: "both-pairs", version: expect.stringMatching(/^[0-9a-f]{16}$/), accepted: pairsOnly.accepted, kept: pairsOnly.kept }])
    expect(pairsOnly.kept).toBeGreaterThan(0)
    expect(sftOnly.outputs).toBeUndefined()

    const [bothSft, soloSft, bothPairs, soloPairs] = await Promise.all([
      rowsOf("both-sft", "sft"), rowsOf("sft-only", "sft"), rowsOf("both-pairs", "dpo"), rowsOf("pairs-only", "dpo")
    ])
    expect(bothSft.records.length).toBe(sftOnly.kept)
    expect(bothSft.records).toEqual(soloSft.records)
    expect(bothPairs.records.length).toBe(pairsOnly.kept)
    expect(bothPairs.records).toEqual(soloPairs.records)

    // Each output commits once per round, with its own selection in the lineage; rows name the version that added them.
    const [sftLog, pairsLog] = [await logOf("both-sft"), await logOf("both-pairs")]
    expect(sftLog).toHaveLength(2)
    expect(pairsLog).toHaveLength(2)
    expect(pairsLog.at(-1)!.id).toBe(both.outputs[0].version)
    expect(sftLog.at(-1)!.id).toBe(both.version)
    const pairsHead = await runCli(["dataset", "show", "both-pairs", "--json"], env)
    expect(JSON.parse(pairsHead.stdout).lineage).toMatchObject({ campaign_id: both.campaignId, round: 2, output: 1, selection: PAIRS })
    for (const row of bothPairs.provenance) {
      expect(row).toMatchObject({ campaign: both.campaignId, added_in: pairsLog[row.round - 1]!.id })
    }

    const status = JSON.parse((await runCli(["campaign", "status", both.campaignId, "--json"], env)).stdout)
    expect(status.outputs).toEqual([{
      dataset: "both-pairs",
      accepted: pairsOnly.accepted,
      versions: pairsLog.map((v, i) => ({ round: i + 1, version: v.id, records: expect.any(Number), added: expect.any(Number) }))
    }])

    const summary = lastJson((await runCli(["campaign", "history", both.campaignId, "--json"], env)).stdout)
    expect(summary.versions.map((v: { version: string }) => v.version)).toEqual(status.versions.map((v: { version: string }) => v.version))
    expect(summary.outputVersions.map((v: { output: number; dataset: string; version: string }) => [v.output, v.dataset, v.version])).toEqual(pairsLog.map((v) => [1, "both-pairs", v.id]))

    // Sampled once: every shard of the two-output campaign ran generate and score once, select and stage once per output.
    const counts = await shardActivities(both.campaignId, 2, 3, "shard-outputs")
    expect(counts).toHaveLength(6)
    for (const byType of counts) expect(byType).toEqual({ generate: 1, score: 1, select: 2, stage: 2 })
    for (const byType of await shardActivities(sftOnly.campaignId, 1, 1)) expect(byType).toEqual({ generate: 1, score: 1, select: 1, stage: 1 })
    const history = await client.workflow.getHandle(both.campaignId).fetchHistory()
    const commits = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === "commit")
    expect(commits).toHaveLength(2)
    await replay("campaign-outputs", history)
  })
})

/**
 * Replays a history; with WINNOW_SAVE_HISTORIES=1 also saves it beside the ones `tests/replay.test.ts`
 * replays, so later workflow changes keep two-output campaigns in flight replayable.
 */
const replay = async (name: string, history: Parameters<typeof Worker.runReplayHistory>[1]) => {
  await expect(Worker.runReplayHistory({ workflowsPath }, history), name).resolves.toBeUndefined()
  if (process.env.WINNOW_SAVE_HISTORIES === "1") writeFileSync(join(repoRoot, "tests/histories", `${name}.json`), historyToJSON(history as never))
}
