import { readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { DatasetStoreApi } from "./store.js"
import { makeRecord } from "./record.js"
import { dpo, failure, lineage, run, sft } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const commitTwoRounds = async () => {
  const r1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0,
    records: [sft("q1", "a1", 0.5), sft("问题二", "答案二", 0.7)] }))
  await run(store.commit({ dataset: "ds", segments: [r1], lineage: lineage("c", 1) }))
  const r2 = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0,
    records: [sft("q3", "a3", 0.9, 2), dpo("q4", "good", "bad", 2)] }))
  return run(store.commit({ dataset: "ds", segments: [r2], lineage: lineage("c", 2) }))
}

/** The rows of `ref` exported as JSONL in `schema`. */
const pulled = async (ref: string, schema: "sft" | "dpo" | "raw" | "sharegpt" | "alpaca") => {
  const out = join(root, "pulled", `${ref}-${schema}.jsonl`)
  await run(store.pull({ ref, format: "jsonl", schema, out }))
  return readJsonl(out)
}

const readJsonl = async (path: string) =>
  (await readFile(path, "utf8")).split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line))

describe("pull", () => {
  it("writes TRL SFT rows, one per sft record of the version", async () => {
    const v2 = await commitTwoRounds()
    const out = join(root, "exports", "train.jsonl")
    const result = await run(store.pull({ ref: "ds", format: "jsonl", schema: "sft", out }))
    expect(result).toEqual({ versionId: v2.id, records: 3, skipped: 1, path: out, files: [out] })
    const rows = await readJsonl(out)
    expect(rows).toHaveLength(v2.manifest.counts.sft)
    const chinese = rows.find((row) => row.prompt_id === "p-问题二")
    expect(chinese).toEqual({
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "问题二" },
        { role: "assistant", content: "答案二" }
      ],
      score: 0.7,
      scores: { length: 3, reward: 0.7 },
      id: chinese.id,
      prompt_id: "p-问题二",
      round: 0,
      provenance: {
        campaign: "c", round: 0, generator: "abc123", added_in: (await run(store.resolve("ds@1"))).id,
        review: { decision: "", reviewer: "", at: "", edited: false }
      }
    })
    expect(await readdir(join(root, "exports"))).toEqual(["train.jsonl"])
  })

  it("names in each row's provenance the version that added it: rows of round 1 version 1, of round 2 version 2", async () => {
    const v2 = await commitTwoRounds()
    const v1 = await run(store.resolve("ds@1"))
    expect(v2.manifest.parent).toBe(v1.id)
    const addedIn = (rows: ReadonlyArray<Record<string, any>>) => rows.map((row) => [row.prompt_id, row.provenance.round, row.provenance.added_in]).sort()
    const sftRows = await pulled("ds", "sft")
    expect(addedIn(sftRows)).toEqual([["p-q1", 0, v1.id], ["p-q3", 2, v2.id], ["p-问题二", 0, v1.id]])
    expect(addedIn(await pulled("ds", "dpo"))).toEqual([["p-q4", 2, v2.id]])
    for (const schema of ["raw", "sharegpt", "alpaca"] as const) {
      const rows = await pulled("ds", schema)
      expect(rows.map((row) => row.provenance.added_in).sort(), schema).toEqual((schema === "raw" ? [v1.id, v1.id, v2.id, v2.id] : [v1.id, v1.id, v2.id]).sort())
    }
    for (const row of sftRows) expect(row.provenance).toMatchObject({ campaign: "c", generator: "abc123" })
    // Pulling an older version names the same version for the same rows: an id never changes once known.
    expect(addedIn(await pulled("ds@1", "sft"))).toEqual([["p-q1", 0, v1.id], ["p-问题二", 0, v1.id]])
    // A third round that adds nothing new leaves the earlier rows' version as it was.
    const again = await run(store.stageSegment({ campaignId: "c", round: 3, shard: 0, records: [sft("q1", "a1", 0.5)] }))
    const v3 = await run(store.commit({ dataset: "ds", segments: [again], lineage: lineage("c", 3) }))
    expect(v3.manifest.counts.added).toBe(0)
    expect(addedIn(await pulled("ds", "sft"))).toEqual(addedIn(sftRows))
  })

  it("has as many lines as the manifest has records when all are sft", async () => {
    await commitTwoRounds()
    const out = join(root, "v1.jsonl")
    const result = await run(store.pull({ ref: "ds@1", format: "jsonl", schema: "sft", out }))
    const { manifest } = await run(store.resolve("ds@1"))
    expect((await readJsonl(out)).length).toBe(manifest.counts.records)
    expect(result.records).toBe(manifest.counts.records)
  })

  it("writes preference rows for dpo records (ultrafeedback_binarized columns, TRL conversational form)", async () => {
    await commitTwoRounds()
    const out = join(root, "pairs.jsonl")
    await run(store.pull({ ref: "ds@latest", format: "jsonl", schema: "dpo", out }))
    const [row, ...rest] = await readJsonl(out)
    expect(rest).toEqual([])
    expect(row).toMatchObject({
      prompt: [{ role: "user", content: "q4" }],
      chosen: [{ role: "assistant", content: "good" }],
      rejected: [{ role: "assistant", content: "bad" }],
      score_chosen: 0.9,
      score_rejected: 0.1,
      prompt_id: "p-q4"
    })
  })

  it("refuses unknown formats, schemas and names, naming the field", async () => {
    await commitTwoRounds()
    const out = join(root, "x.jsonl")
    expect(await failure(store.pull({ ref: "ds", format: "csv", schema: "sft", out })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "format", value: "csv" }] })
    expect(await failure(store.pull({ ref: "ds", format: "jsonl", schema: "kto", out })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "schema", value: "kto" }] })
    expect(await failure(store.pull({ ref: "ds", format: "jsonl", schema: "alpaca", out, name: "../evil" })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "name", value: "../evil" }] })
    expect((await failure(store.pull({ ref: "nope", format: "jsonl", schema: "sft", out })))._tag).toBe("NotFound")
    expect((await failure(store.pull({ ref: "../../etc", format: "jsonl", schema: "sft", out })))._tag).toBe("InputInvalid")
    expect(await readdir(root)).not.toContain("x.jsonl")
  })

  it("refuses a corrupt segment and leaves an existing export untouched", async () => {
    const v2 = await commitTwoRounds()
    const out = join(root, "out", "train.jsonl")
    await run(store.pull({ ref: "ds", format: "jsonl", schema: "sft", out }))
    const before = await readFile(out, "utf8")
    const hash = v2.manifest.segments[1].hash
    const object = join(root, "objects", hash.slice(0, 2), `${hash}.parquet`)
    const bytes = await readFile(object)
    bytes[bytes.length - 40] ^= 0x5a
    await writeFile(object, bytes)
    for (const format of ["jsonl", "parquet"] as const) {
      expect(await failure(store.pull({ ref: "ds", format, schema: "sft", out })))
        .toMatchObject({ _tag: "StoreCorrupt", path: object })
    }
    expect(await failure(store.pull({ ref: "ds", format: "hf", schema: "sft", out: join(root, "repo") })))
      .toMatchObject({ _tag: "StoreCorrupt", path: object })
    expect(await readFile(out, "utf8")).toBe(before)
    expect(await readdir(join(root, "out"))).toEqual(["train.jsonl"])
    expect(await readdir(root)).not.toContain("repo")
  })

  it("refuses a schema for a kind the version does not hold, naming its kinds, and writes nothing", async () => {
    await commitTwoRounds()
    const pairsOnly = await run(store.stageSegment({ campaignId: "p", round: 1, shard: 0, records: [dpo("q", "yes", "no", 1)] }))
    const pairs = await run(store.commit({ dataset: "pairs", segments: [pairsOnly], lineage: lineage("p", 1) }))
    const v1 = await run(store.resolve("ds@1"))
    const cases = [
      ["ds@1", "dpo", `ds@${v1.id} holds 2 sft records and no dpo pairs`],
      ["ds@1", "sharegpt-dpo", "holds 2 sft records and no dpo pairs"],
      ["pairs", "sft", `pairs@${pairs.id} holds 1 dpo pair and no sft records`],
      ["pairs", "alpaca", "holds 1 dpo pair and no sft records"]
    ] as const
    for (const [ref, schema, kinds] of cases) {
      for (const format of ["jsonl", "parquet", "hf"] as const) {
        const out = join(root, "refused", `${schema}.${format}`)
        const error = await failure(store.pull({ ref, format, schema, out }))
        expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "schema", value: schema }] })
        expect((error as { issues: ReadonlyArray<{ expected: string }> }).issues[0]!.expected).toContain(kinds)
      }
    }
    expect(await readdir(root)).not.toContain("refused")
  })

  it("refuses alpaca for conversations with earlier turns (its history column cannot be typed in JSON), pointing at sharegpt", async () => {
    const turns = makeRecord({
      kind: "sft", prompt_id: "p-multi", score: 0.5, scores: { reward: 0.5 }, round: 1, response: "a2",
      messages: [{ role: "user", content: "q1" }, { role: "assistant", content: "a1" }, { role: "user", content: "q2" }]
    })
    const segment = await run(store.stageSegment({ campaignId: "m", round: 1, shard: 0, records: [turns, sft("q", "a", 0.5, 1)] }))
    await run(store.commit({ dataset: "multi", segments: [segment], lineage: lineage("m", 1) }))
    for (const schema of ["alpaca", "alpaca-dpo"] as const) {
      const error = await failure(store.pull({ ref: "multi", format: "jsonl", schema, out: join(root, "multi.jsonl") }))
      expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "schema", value: schema }] })
    }
    const error = await failure(store.pull({ ref: "multi", format: "jsonl", schema: "alpaca", out: join(root, "multi.jsonl") }))
    expect((error as { issues: ReadonlyArray<{ expected: string }> }).issues[0]!.expected).toMatch(/1 of 2 sft records .*earlier turns.*sharegpt/)
    const ok = await run(store.pull({ ref: "multi", format: "jsonl", schema: "sharegpt", out: join(root, "multi.jsonl") }))
    expect(ok.records).toBe(2)
  })
})
