import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { storeRoot } from "../core/home.js"
import { DatasetStore } from "../datasets/store.js"
import { dpo, lineage, run, sft } from "./support/storeFixtures.js"
import { runCli } from "./support/harness.js"

/** `winnow dataset pull` through the real command: what it refuses (exit 2) and the options it takes. */
let home: string
let env: Record<string, string>

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "winnow-pull-cli-"))
  env = { WINNOW_HOME: home }
  const store = DatasetStore.make(storeRoot(home))
  for (const [dataset, records] of [["answers", [sft("2+2?", "4", 0.5, 1)]], ["pairs", [dpo("say hi", "hi!", "no", 1)]]] as const) {
    const segment = await run(store.stageSegment({ campaignId: dataset, round: 1, shard: 0, records: [...records] }))
    await run(store.commit({ dataset, segments: [segment], lineage: lineage(dataset, 1) }))
  }
})

afterAll(() => rm(home, { recursive: true, force: true }))

describe("winnow dataset pull", () => {
  it("exits 2 naming the dataset's kinds when the schema's kind is not in it, and writes nothing", async () => {
    const cases = [
      [["answers", "--schema", "dpo"], "1 sft record and no dpo pairs"],
      [["answers", "--schema", "alpaca-dpo", "--format", "parquet"], "1 sft record and no dpo pairs"],
      [["pairs", "--schema", "sft", "--format", "hf"], "1 dpo pair and no sft records"],
      [["pairs", "--schema", "sharegpt"], "1 dpo pair and no sft records"]
    ] as const
    for (const [args, kinds] of cases) {
      const result = await runCli(["dataset", "pull", ...args, "--out", join(home, "out", "x")], env)
      expect(result.code, args.join(" ")).toBe(2)
      expect(result.stderr).toContain(kinds)
    }
    expect(await readdir(home)).not.toContain("out")
  })

  it("takes --license for a dataset-repo folder's card and refuses one that is not a license id", async () => {
    const bad = await runCli(["dataset", "pull", "answers", "--format", "hf", "--license", "Apache 2.0", "--out", join(home, "repo")], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("license")
    const ok = await runCli(["dataset", "pull", "answers", "--format", "hf", "--license", "cc-by-4.0", "--out", join(home, "repo"), "--json"], env)
    expect(ok.code, ok.stderr).toBe(0)
    expect(await readFile(join(home, "repo", "README.md"), "utf8")).toContain("\nlicense: cc-by-4.0\n")
  })

  it("writes LLaMA-Factory's ranking format for pairs with its dataset_info.json entry", async () => {
    const result = await runCli(["dataset", "pull", "pairs", "--schema", "sharegpt-dpo", "--out", join(home, "lf", "pairs.jsonl"), "--json"], env)
    expect(result.code, result.stderr).toBe(0)
    const info = JSON.parse(await readFile(join(home, "lf", "dataset_info.json"), "utf8"))
    expect(info["pairs-sharegpt-dpo"]).toMatchObject({ file_name: "pairs.jsonl", ranking: true })
  })
})
