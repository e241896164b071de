import { readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { DatasetStoreApi } from "../store.js"
import { dpo, failure, lineage, run, sft } from "../../tests/support/storeFixtures.js"
import { useTempStore } from "../../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const commit = async (dataset: string, round: number) => {
  const segment = await run(store.stageSegment({ campaignId: dataset, round, shard: 0,
    records: [sft(`q${round}`, `a${round}`, 0.5, round), dpo(`p${round}`, "good", "bad", round)] }))
  return run(store.commit({ dataset, segments: [segment], lineage: lineage(dataset, round) }))
}

const infoOf = async (dir: string) => JSON.parse(await readFile(join(dir, "dataset_info.json"), "utf8")) as Record<string, { file_name: string }>

describe("LLaMA-Factory dataset_info.json", () => {
  it("gives every export its own entry by default (dataset and schema), so exports sharing a folder keep each other's", async () => {
    await commit("ds", 1)
    await commit("other", 1)
    const dir = join(root, "lf")
    await run(store.pull({ ref: "ds", schema: "sharegpt", format: "jsonl", out: join(dir, "ds.jsonl") }))
    await run(store.pull({ ref: "ds", schema: "alpaca", format: "jsonl", out: join(dir, "ds-alpaca.jsonl") }))
    await run(store.pull({ ref: "ds", schema: "sharegpt-dpo", format: "jsonl", out: join(dir, "ds-pairs.jsonl") }))
    await run(store.pull({ ref: "other", schema: "sharegpt", format: "jsonl", out: join(dir, "other.jsonl") }))
    const info = await infoOf(dir)
    expect(Object.fromEntries(Object.entries(info).map(([name, entry]) => [name, entry.file_name]))).toEqual({
      "ds-sharegpt": "ds.jsonl", "ds-alpaca": "ds-alpaca.jsonl", "ds-sharegpt-dpo": "ds-pairs.jsonl", "other-sharegpt": "other.jsonl"
    })
  })

  it("refuses to point an entry that describes another file at this one (naming both), unless --force; re-exporting the same file updates it", async () => {
    await commit("ds", 1)
    await commit("ds", 2)
    const dir = join(root, "lf")
    await run(store.pull({ ref: "ds@1", schema: "sharegpt", format: "jsonl", out: join(dir, "v1.jsonl") }))
    const error = await failure(store.pull({ ref: "ds@2", schema: "sharegpt", format: "jsonl", out: join(dir, "v2.jsonl") }))
    expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "name", value: "ds-sharegpt" }] })
    expect((error as { issues: ReadonlyArray<{ expected: string }> }).issues[0]!.expected).toMatch(/v1\.jsonl.*--name.*--force/)
    expect((await readdir(dir)).sort()).toEqual(["dataset_info.json", "v1.jsonl"])
    expect((await infoOf(dir))["ds-sharegpt"]!.file_name).toBe("v1.jsonl")
    await run(store.pull({ ref: "ds@2", schema: "sharegpt", format: "jsonl", out: join(dir, "v2.jsonl"), name: "ds-v2" }))
    await run(store.pull({ ref: "ds@2", schema: "sharegpt", format: "jsonl", out: join(dir, "v1.jsonl") }))
    expect(Object.keys(await infoOf(dir)).sort()).toEqual(["ds-sharegpt", "ds-v2"])
    await run(store.pull({ ref: "ds@1", schema: "alpaca", format: "jsonl", out: join(dir, "v2-alpaca.jsonl"), name: "ds-v2", force: true }))
    expect((await infoOf(dir))["ds-v2"]).toMatchObject({ file_name: "v2-alpaca.jsonl", columns: { prompt: "instruction" } })
  })

  it("describes preference pairs with ranking: true and chosen/rejected columns, in both layouts", async () => {
    await commit("ds", 1)
    const dir = join(root, "lf")
    await run(store.pull({ ref: "ds", schema: "sharegpt-dpo", format: "jsonl", out: join(dir, "s.jsonl") }))
    await run(store.pull({ ref: "ds", schema: "alpaca-dpo", format: "jsonl", out: join(dir, "a.jsonl") }))
    const info = await infoOf(dir)
    expect(info["ds-sharegpt-dpo"]).toEqual({
      file_name: "s.jsonl", formatting: "sharegpt", ranking: true,
      columns: { messages: "conversations", system: "system", chosen: "chosen", rejected: "rejected" },
      tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" }
    })
    expect(info["ds-alpaca-dpo"]).toEqual({
      file_name: "a.jsonl", ranking: true,
      columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected", system: "system" }
    })
    const [row] = (await readFile(join(dir, "s.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l))
    expect(row).toMatchObject({ conversations: [{ from: "human", value: "p1" }], chosen: { from: "gpt", value: "good" }, rejected: { from: "gpt", value: "bad" } })
    const [alpaca] = (await readFile(join(dir, "a.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l))
    expect(alpaca).toMatchObject({ instruction: "p1", input: "", chosen: "good", rejected: "bad", system: "" })
  })

  it("leaves a dataset_info.json that is not a JSON object alone and says so, writing no data file", async () => {
    await commit("ds", 1)
    const dir = join(root, "lf")
    await run(store.pull({ ref: "ds", schema: "sharegpt", format: "jsonl", out: join(dir, "a.jsonl") }))
    await writeFile(join(dir, "dataset_info.json"), "[1, 2]\n")
    const error = await failure(store.pull({ ref: "ds", schema: "alpaca", format: "jsonl", out: join(dir, "b.jsonl") }))
    expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "out", value: join(dir, "dataset_info.json") }] })
    expect(await readFile(join(dir, "dataset_info.json"), "utf8")).toBe("[1, 2]\n")
    expect((await readdir(dir)).sort()).toEqual(["a.jsonl", "dataset_info.json"])
  })
})
