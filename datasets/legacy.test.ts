import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { canonicalJson, sha256 } from "../core/hash.js"
import { manifestText, versionIdOf } from "./manifest.js"
import type { DatasetStoreApi } from "./store.js"
import { collect, lineage, run, sft } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const legacyRecords = [sft("旧问题", "旧答案，内容比较长一些，方便比较相似度。", 0.6, 1), sft("old question", "old answer", 0.4, 1)]
  .sort((a, b) => (a.id < b.id ? -1 : 1))

/** Writes a dataset exactly as the first cut did: a JSONL segment and a format-1 manifest. */
const writeFirstCutDataset = async (): Promise<{ id: string; segment: string }> => {
  const bytes = Buffer.from(legacyRecords.map((r) => `${canonicalJson(r)}\n`).join(""), "utf8")
  const hash = sha256(bytes)
  await mkdir(join(root, "objects", hash.slice(0, 2)), { recursive: true })
  await writeFile(join(root, "objects", hash.slice(0, 2), `${hash}.jsonl`), bytes)
  const manifest = {
    format: "winnow.manifest/1",
    dataset: "old",
    sequence: 1,
    parent: null,
    created_at: "2026-01-01T00:00:00.000Z",
    segments: [{ hash, records: 2, bytes: bytes.length, round: 1, campaign_id: "c", shard: 0 }],
    counts: { records: 2, sft: 2, dpo: 0, added: 2, duplicates_dropped: 0 },
    score_stats: { mean: 0.5, min: 0.4, max: 0.6, p50: 0.4, p90: 0.6 },
    lineage: lineage("c", 1)
  }
  const id = versionIdOf(manifest)
  await mkdir(join(root, "datasets", "old", "versions"), { recursive: true })
  await mkdir(join(root, "datasets", "old", "refs"), { recursive: true })
  await writeFile(join(root, "datasets", "old", "versions", `${id}.json`), manifestText(manifest as never))
  await writeFile(join(root, "datasets", "old", "refs", "HEAD"), `${id}\n`)
  return { id, segment: hash }
}

describe("stores written by the first cut (JSONL segments, manifest format 1)", () => {
  it("stay readable, verifiable and exportable, upgraded in memory", async () => {
    const { id } = await writeFirstCutDataset()
    const version = await run(store.resolve("old"))
    expect(version.id).toBe(id)
    expect(version.manifest.format).toBe("winnow.manifest/2")
    expect(version.manifest.segments[0].format).toBe("jsonl")
    expect(version.manifest.counts).toMatchObject({ staged: 2, near_duplicates_dropped: 0 })
    expect(await collect(store.readRecords(version.manifest, { verify: true }))).toEqual(legacyRecords)
    expect((await run(store.verify("old"))).ok).toBe(true)
    const out = join(root, "old.jsonl")
    expect((await run(store.pull({ ref: "old", format: "jsonl", schema: "sft", out }))).records).toBe(2)
    expect((await readFile(out, "utf8")).trim().split("\n")).toHaveLength(2)
  })

  it("take new Parquet commits on top, deduplicated against the JSONL records", async () => {
    const { id, segment } = await writeFirstCutDataset()
    const staged = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: [
      { ...legacyRecords[0], round: 2 },
      sft("旧问题", "旧答案，内容比较长一些，方便比较相似度！！", 0.9, 2),
      sft("new question", "new answer", 0.9, 2)
    ] }))
    const v2 = await run(store.commit({ dataset: "old", segments: [staged], lineage: lineage("c", 2), dedup: { near: {} } }))
    expect(v2.manifest).toMatchObject({ parent: id, sequence: 2 })
    expect(v2.manifest.counts).toMatchObject({ records: 3, added: 1, duplicates_dropped: 1, near_duplicates_dropped: 1 })
    expect(v2.manifest.segments.map((s) => [s.hash === segment, s.format])).toEqual([[true, "jsonl"], [false, "parquet"]])
    expect((await collect(store.readRecords(v2.manifest))).map((r) => r.prompt_id)).toContain("p-new question")
    expect((await run(store.diff("old@1", "old"))).added).toBe(1)
    const out = join(root, "mixed.jsonl")
    await run(store.pull({ ref: "old", format: "jsonl", schema: "sft", out }))
    const addedIn = (await readFile(out, "utf8")).trim().split("\n").map((line) => JSON.parse(line))
      .map((row) => [row.prompt_id, row.provenance.added_in]).sort()
    expect(addedIn).toEqual([...legacyRecords.map((r) => [r.prompt_id, id]), ["p-new question", v2.id]].sort())
  })
})
