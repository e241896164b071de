import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { storeRoot } from "../core/home.js"
import { DatasetStore } from "../datasets/store.js"
import { lineage, run, sft } from "./support/storeFixtures.js"
import { runCli } from "./support/harness.js"

let home: string
let env: Record<string, string>
let ids: Array<string> = []

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "winnow-dataset-cli-"))
  env = { WINNOW_HOME: home }
  const store = DatasetStore.make(storeRoot(home))
  const rounds = [
    [sft("2+2?", "4", 0.5, 1), sft("你好吗？", "我很好，谢谢你的关心。", 0.6, 1)],
    [sft("3+3?", "6", 0.9, 2), sft("你好吗？", "我很好，谢谢你的关心！", 0.95, 2), sft("4+4?", "8", 0.8, 2)]
  ]
  ids = []
  for (const [i, records] of rounds.entries()) {
    const segment = await run(store.stageSegment({ campaignId: "cli", round: i + 1, shard: 0, records }))
    ids.push((await run(store.commit({ dataset: "cli-ds", segments: [segment], lineage: lineage("cli", i + 1), dedup: { near: {} } }))).id)
  }
})

afterAll(() => rm(home, { recursive: true, force: true }))

const json = async (args: Array<string>) => {
  const result = await runCli([...args, "--json"], env)
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0)
  return JSON.parse(result.stdout)
}

describe("winnow dataset", () => {
  it("list, show, log, diff, tag and verify answer in JSON", async () => {
    expect(await json(["dataset", "list"])).toEqual([expect.objectContaining({ name: "cli-ds", head: ids[1], sequence: 2, records: 4 })])
    const shown = await json(["dataset", "show", "cli-ds"])
    expect(shown).toMatchObject({ id: ids[1], counts: { records: 4, staged: 3, added: 2, near_duplicates_dropped: 1 } })
    expect(shown.lineage.dedup.near).toMatchObject({ threshold: 0.8 })
    const log = await json(["dataset", "log", "cli-ds"])
    expect(log.map((v: { id: string }) => v.id)).toEqual([ids[1], ids[0]])
    expect(log[1].lineage).toMatchObject({ campaign_id: "cli", workflow_id: "wf-cli", run_id: "run-1", generator: { model_hash: "abc123" } })
    const diff = await json(["dataset", "diff", "cli-ds@1", "@2"])
    expect(diff).toMatchObject({ added: 2, removed: 0, common: 2, from: { id: ids[0] }, to: { id: ids[1] } })
    expect(diff.scoreShift.mean).toBeCloseTo((0.5 + 0.6 + 0.9 + 0.8) / 4 - 0.55, 10)
    expect(diff.scorers.map((s: { name: string }) => s.name)).toEqual(["length", "reward"])
    expect(await json(["dataset", "tag", "cli-ds", "first", "1"])).toEqual({ dataset: "cli-ds", tag: "first", version: ids[0] })
    expect((await json(["dataset", "show", "cli-ds@first"])).id).toBe(ids[0])
    expect(await json(["dataset", "verify", "cli-ds"])).toMatchObject({ ok: true, segmentsChecked: 2 })
    const text = await runCli(["dataset", "diff", "cli-ds@1", "cli-ds@2"], env)
    expect(text.stdout).toContain("added:")
    expect(await json(["dataset", "gc", "--dry-run"])).toMatchObject({ dryRun: true, stagingRounds: 2, objects: { files: 0 }, workRounds: 0 })
    expect(await json(["dataset", "gc"])).toMatchObject({ dryRun: false, stagingRounds: 2 })
    expect(await json(["dataset", "verify", "cli-ds"])).toMatchObject({ ok: true, segmentsChecked: 2 })
    expect(await json(["dataset", "gc"])).toMatchObject({ stagingRounds: 0 })
  })

  it("pull writes each format and reports the files", async () => {
    const out = join(home, "exports")
    const jsonl = await json(["dataset", "pull", "cli-ds", "--out", join(out, "train.jsonl")])
    expect(jsonl).toMatchObject({ versionId: ids[1], records: 4, skipped: 0 })
    expect((await readFile(join(out, "train.jsonl"), "utf8")).trim().split("\n")).toHaveLength(4)
    const alpaca = await json(["dataset", "pull", "cli-ds@1", "--out", join(out, "a.jsonl"), "--schema", "alpaca", "--name", "mine"])
    expect(alpaca.files).toEqual([join(out, "a.jsonl"), join(out, "dataset_info.json")])
    const repo = await json(["dataset", "pull", "cli-ds", "--out", join(out, "repo"), "--format", "hf", "--rows-per-shard", "3"])
    expect(repo.files).toContain(join(out, "repo", "data", "train-00001-of-00002.parquet"))
    expect(repo.files).toContain(join(out, "repo", "README.md"))
  })

  it("bad input exits 2 naming the field; nothing is written", async () => {
    const cases: Array<[Array<string>, string]> = [
      [["dataset", "show", "cli-ds@9"], "cli-ds@9"],
      [["dataset", "show", "../../etc"], "../../etc"],
      [["dataset", "tag", "cli-ds", "../x", "1"], "../x"],
      [["dataset", "diff", "cli-ds@1", "other@1"], "other"],
      [["dataset", "pull", "cli-ds", "--out", join(home, "x.jsonl"), "--schema", "kto"], "kto"],
      [["dataset", "pull", "cli-ds", "--out", join(home, "x.jsonl"), "--format", "xml"], "xml"],
      [["dataset", "pull", "cli-ds", "--out", join(home, "r"), "--format", "hf", "--rows-per-shard", "many"], "rowsPerShard"]
    ]
    for (const [args, mention] of cases) {
      const result = await runCli(args, env)
      expect(result.code, args.join(" ")).toBe(2)
      expect(result.stderr).toContain(mention)
    }
    const missingOut = await runCli(["dataset", "pull", "cli-ds"], env)
    expect(missingOut.code).toBe(2)
    await expect(readFile(join(home, "x.jsonl"))).rejects.toThrow()
  })

  it("verify reports a corrupt segment (exit 1) and pull refuses it", async () => {
    const { manifest } = await run(DatasetStore.make(storeRoot(home)).resolve("cli-ds@2"))
    const hash = manifest.segments[1].hash
    const path = join(storeRoot(home), "objects", hash.slice(0, 2), `${hash}.parquet`)
    const original = await readFile(path)
    const damaged = Buffer.from(original)
    damaged[8] ^= 0x10
    await writeFile(path, damaged)
    try {
      const report = await runCli(["dataset", "verify", "cli-ds", "--json"], env)
      expect(report.code).toBe(1)
      expect(JSON.parse(report.stdout)).toMatchObject({ ok: false, corrupt: [{ path }] })
      const refused = await runCli(["dataset", "pull", "cli-ds", "--out", join(home, "refused.jsonl")], env)
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain(hash)
      await expect(readFile(join(home, "refused.jsonl"))).rejects.toThrow()
      expect((await runCli(["dataset", "pull", "cli-ds@1", "--out", join(home, "v1.jsonl")], env)).code).toBe(0)
    } finally {
      await writeFile(path, original)
    }
  })
})
