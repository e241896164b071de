import { readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { DatasetStoreApi } from "./store.js"
import { sha256 } from "../core/hash.js"
import { collect, dpo, failure, lineage, run, sft, tempStore } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const round1 = [sft("2+2?", "4", 0.9), sft("capital of France?", "Paris", 0.7), sft("你好吗？", "我很好，谢谢。", 0.8)]

describe("stage + commit + resolve + readRecords", () => {
  it("commits staged shards and reads every record back once, in a stable order", async () => {
    const a = await run(store.stageSegment({ campaignId: "camp1", round: 1, shard: 0, records: round1.slice(0, 2) }))
    const b = await run(store.stageSegment({ campaignId: "camp1", round: 1, shard: 1, records: round1.slice(2) }))
    const staged = await run(store.listStaged("camp1", 1))
    expect(staged.map((s) => s.hash)).toEqual([a.hash, b.hash])
    expect(a).toMatchObject({ records: 2, round: 1, campaign_id: "camp1", shard: 0 })

    const committed = await run(store.commit({ dataset: "math", segments: staged, lineage: lineage("camp1", 1) }))
    expect(committed.created).toBe(true)
    expect(committed.id).toMatch(/^[0-9a-f]{16}$/)
    const { manifest } = committed
    expect(manifest).toMatchObject({ format: "winnow.manifest/2", dataset: "math", sequence: 1, parent: null })
    expect(manifest.counts).toEqual({ records: 3, sft: 3, dpo: 0, staged: 3, added: 3, duplicates_dropped: 0, near_duplicates_dropped: 0, contaminated_dropped: 0 })
    expect(manifest.segments).toHaveLength(1)
    expect(manifest.segments[0]).toMatchObject({ format: "parquet", records: 3, round: 1, campaign_id: "camp1", shard: null })
    expect(manifest.lineage.dedup).toEqual({ exact: "record id = sha256 of content", near: null, decontamination: null })
    expect(manifest.score_stats).toMatchObject({ min: 0.7, max: 0.9, p50: 0.8, p90: 0.9 })
    expect(manifest.score_stats?.mean).toBeCloseTo(0.8, 12)
    expect(manifest.lineage.commit_key).toBe("camp1/1")

    const resolved = await run(store.resolve("math"))
    expect(resolved.id).toBe(committed.id)
    const records = await collect(store.readRecords(resolved.manifest, { verify: true }))
    expect(records.map((r) => r.id).sort()).toEqual(round1.map((r) => r.id).sort())
    const again = await collect(store.readRecords(resolved.manifest))
    expect(again.map((r) => r.id)).toEqual(records.map((r) => r.id))
    expect(records.find((r) => r.prompt_id === "p-你好吗？")).toEqual(round1[2])
    const viaIterable = []
    for await (const record of Stream.toAsyncIterable(store.readRecords(resolved.manifest))) viaIterable.push(record.id)
    expect(viaIterable).toEqual(records.map((r) => r.id))
    expect(await collect(Stream.take(store.readRecords(resolved.manifest), 1))).toHaveLength(1)

    const onDisk = await readFile(join(root, "datasets", "math", "versions", `${committed.id}.json`), "utf8")
    expect(JSON.parse(onDisk)).toEqual(JSON.parse(JSON.stringify(manifest)))
    expect((await readFile(join(root, "datasets", "math", "refs", "HEAD"), "utf8")).trim()).toBe(committed.id)
  })

  it("re-staging the same key with the same records gives the same hash and bytes", async () => {
    const first = await run(store.stageSegment({ campaignId: "c", round: 0, shard: 3, records: round1 }))
    const again = await run(store.stageSegment({ campaignId: "c", round: 0, shard: 3, records: [...round1].reverse() }))
    expect(again).toEqual(first)
    expect(first.format).toBe("parquet")
    const path = join(root, "objects", first.hash.slice(0, 2), `${first.hash}.parquet`)
    const bytes = await readFile(path)
    expect(bytes.subarray(0, 4).toString()).toBe("PAR1")
    expect(sha256(bytes)).toBe(first.hash)
    const elsewhere = await tempStore()
    try {
      const copy = await run(elsewhere.store.stageSegment({ campaignId: "other", round: 5, shard: 1, records: [round1[2], round1[0], round1[1], round1[0]] }))
      expect(copy.hash).toBe(first.hash)
      expect((await readFile(join(elsewhere.root, "objects", first.hash.slice(0, 2), `${first.hash}.parquet`))).equals(bytes)).toBe(true)
    } finally {
      await elsewhere.cleanup()
    }
    const v = await run(store.commit({ dataset: "ds", segments: [first], lineage: lineage("c", 0) }))
    expect((await collect(store.readRecords(v.manifest))).map((r) => r.id)).toEqual(round1.map((r) => r.id).sort())
    expect(await run(store.listStaged("c", 0))).toEqual([first])
    expect(await run(store.listStaged("c", 9))).toEqual([])
  })

  it("rejects records whose id does not match their content", async () => {
    const forged = { ...round1[0], id: "f".repeat(64) }
    const error = await failure(store.stageSegment({ campaignId: "c", round: 0, shard: 0, records: [forged] }))
    expect(error._tag).toBe("InputInvalid")
    expect(error._tag === "InputInvalid" && error.issues[0].path).toBe("records[0].id")
  })

  it("names the field of a malformed record", async () => {
    const bad = { ...round1[0], messages: [{ role: "robot", content: "x" }] } as never
    const error = await failure(store.stageSegment({ campaignId: "c", round: 0, shard: 0, records: [bad] }))
    expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "records[0].messages[0].role", value: "robot" }] })
  })
})

describe("commit rules", () => {
  it("is idempotent by commit_key", async () => {
    const seg = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const first = await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", 1) }))
    const retried = await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", 1) }))
    expect(retried.created).toBe(false)
    expect(retried.id).toBe(first.id)
    expect(await run(store.log("ds"))).toHaveLength(1)
    const other = await run(store.commit({ dataset: "ds", segments: [], lineage: lineage("c", 2) }))
    const retriedOld = await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", 1) }))
    expect(retriedOld.id).toBe(first.id)
    expect((await run(store.resolve("ds"))).id).toBe(other.id)
  })

  it("drops records already in the parent chain and duplicates within the commit", async () => {
    const s1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const v1 = await run(store.commit({ dataset: "ds", segments: [s1], lineage: lineage("c", 1) }))
    const fresh = sft("1+1?", "2", 0.95, 2)
    const reAdded = { ...round1[0], round: 2, score: 0.1, scores: { reward: 0.1 } }
    const worse = sft("3+3?", "6", 0.2, 2)
    const better = { ...worse, score: 0.6 }
    const s2a = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: [fresh, reAdded, worse] }))
    const s2b = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 1, records: [better] }))
    const v2 = await run(store.commit({ dataset: "ds", segments: [s2a, s2b], lineage: lineage("c", 2) }))
    expect(v2.manifest).toMatchObject({ sequence: 2, parent: v1.id })
    expect(v2.manifest.counts).toEqual({ records: 5, sft: 5, dpo: 0, staged: 4, added: 2, duplicates_dropped: 2, near_duplicates_dropped: 0, contaminated_dropped: 0 })
    expect(v2.manifest.segments.map((s) => s.hash).slice(0, 1)).toEqual(v1.manifest.segments.map((s) => s.hash))
    const records = await collect(store.readRecords(v2.manifest))
    expect(records).toHaveLength(5)
    expect(new Set(records.map((r) => r.id)).size).toBe(5)
    expect(records.find((r) => r.id === round1[0].id)?.round).toBe(0)
    expect(records.find((r) => r.id === worse.id)?.score).toBe(0.6)
    expect(v2.manifest.score_stats?.max).toBe(0.95)
  })

  it("creates a version for an empty commit and keeps the parent's stats", async () => {
    const s1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const v1 = await run(store.commit({ dataset: "ds", segments: [s1], lineage: lineage("c", 1) }))
    const s2 = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: round1 }))
    const v2 = await run(store.commit({ dataset: "ds", segments: [s2], lineage: lineage("c", 2) }))
    expect(v2.manifest.counts).toEqual({ ...v1.manifest.counts, staged: 3, added: 0, duplicates_dropped: 3 })
    expect(v2.manifest.segments).toEqual(v1.manifest.segments)
    expect(v2.manifest.score_stats).toEqual(v1.manifest.score_stats)
  })

  it("keeps sft and dpo counts apart", async () => {
    const seg = await run(store.stageSegment({ campaignId: "c", round: 0, shard: 0, records: [...round1, dpo("q", "good", "bad")] }))
    const v = await run(store.commit({ dataset: "mixed", segments: [seg], lineage: lineage("c", 0) }))
    expect(v.manifest.counts).toMatchObject({ records: 4, sft: 3, dpo: 1 })
    expect(v.manifest.segments[0].shard).toBe(0)
  })

  it("refuses segments that were never staged", async () => {
    const ghost = { hash: "a".repeat(64), records: 1, bytes: 10, round: 0, campaign_id: "c", shard: 0 }
    const error = await failure(store.commit({ dataset: "ds", segments: [ghost], lineage: lineage("c", 0) }))
    expect(error).toMatchObject({ _tag: "NotFound", kind: "segment" })
    expect((await failure(store.resolve("ds")))._tag).toBe("NotFound")
  })

  it("refuses an incomplete lineage, naming the field", async () => {
    const { commit_key: _, ...partial } = lineage("c", 0)
    const error = await failure(store.commit({ dataset: "ds", segments: [], lineage: partial as never }))
    expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "lineage.commit_key" }] })
  })
})

describe("refs, names and lookup", () => {
  const commitRounds = async (n: number) => {
    const versions = []
    for (let r = 1; r <= n; r++) {
      const seg = await run(store.stageSegment({ campaignId: "c", round: r, shard: 0, records: [sft(`q${r}`, "a", r / 10, r)] }))
      versions.push(await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", r) })))
    }
    return versions
  }

  it("resolves latest, sequence numbers, id prefixes and tags", async () => {
    const [v1, v2, v3] = await commitRounds(3)
    expect((await run(store.resolve("ds@latest"))).id).toBe(v3.id)
    expect((await run(store.resolve("ds@1"))).id).toBe(v1.id)
    expect((await run(store.resolve(`ds@${v2.id.slice(0, 6)}`))).id).toBe(v2.id)
    expect((await run(store.resolve(`ds@${v2.id}`))).id).toBe(v2.id)
    expect((await run(store.resolve(`ds@${v3.id.slice(0, 4)}`))).id).toBe(v3.id)
    await run(store.tag("ds", "best", "2"))
    expect((await run(store.resolve("ds@best"))).id).toBe(v2.id)
    await run(store.tag("ds", "best", `ds@${v1.id}`))
    expect((await run(store.resolve("ds@best"))).id).toBe(v1.id)
    expect((await failure(store.tag("ds", "latest", "1")))._tag).toBe("InputInvalid")
    expect((await failure(store.tag("ds", "cafe", "1")))._tag).toBe("InputInvalid")
    expect((await failure(store.tag("ds", "x", "other@1")))._tag).toBe("InputInvalid")
  })

  it("lists datasets and logs the chain newest first", async () => {
    const versions = await commitRounds(3)
    const log = await run(store.log("ds"))
    expect(log.map((v) => v.id)).toEqual(versions.map((v) => v.id).reverse())
    expect(log.map((v) => v.manifest.parent)).toEqual([versions[1].id, versions[0].id, null])
    const list = await run(store.list())
    expect(list).toEqual([{ name: "ds", head: versions[2].id, sequence: 3, records: 3, updated_at: versions[2].manifest.created_at }])
  })

  it("rejects path-traversal and malformed names with InputInvalid naming the value", async () => {
    for (const bad of ["../x", "a/b", "", ".hidden", "x".repeat(65), "UP"]) {
      const error = await failure(store.commit({ dataset: bad, segments: [], lineage: lineage("c", 0) }))
      expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "dataset", value: bad }] })
    }
    expect(await failure(store.resolve("../../etc@1"))).toMatchObject({ _tag: "InputInvalid", issues: [{ value: "../../etc" }] })
    expect(await failure(store.stageSegment({ campaignId: "../c", round: 0, shard: 0, records: [] })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "campaignId", value: "../c" }] })
    expect((await failure(store.stageSegment({ campaignId: "c", round: -1, shard: 0, records: [] })))._tag).toBe("InputInvalid")
    expect((await failure(store.resolve("ds@a/b")))._tag).toBe("InputInvalid")
  })

  it("reports unknown datasets and versions as NotFound with a hint", async () => {
    await commitRounds(2)
    expect(await failure(store.resolve("nope"))).toMatchObject({ _tag: "NotFound", kind: "dataset", hint: "datasets: ds" })
    const missingSeq = await failure(store.resolve("ds@7"))
    expect(missingSeq).toMatchObject({ _tag: "NotFound", kind: "version" })
    expect(missingSeq._tag === "NotFound" && missingSeq.hint).toContain("versions 1..2")
    expect(await failure(store.resolve("ds@ffff"))).toMatchObject({ _tag: "NotFound", kind: "version" })
    expect(await failure(store.resolve("ds@nosuchtag"))).toMatchObject({ _tag: "NotFound", kind: "tag" })
  })
})

describe("failed commits", () => {
  it("leave the previous version intact and no partial files when a staged segment is corrupt", async () => {
    const s1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const v1 = await run(store.commit({ dataset: "ds", segments: [s1], lineage: lineage("c", 1) }))
    const s2 = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: [sft("new", "x", 1, 2)] }))
    const object = join(root, "objects", s2.hash.slice(0, 2), `${s2.hash}.parquet`)
    const original = await readFile(object)
    const damaged = Buffer.from(original)
    damaged[20] ^= 0xff
    await writeFile(object, damaged)
    expect(await failure(store.commit({ dataset: "ds", segments: [s2], lineage: lineage("c", 2) })))
      .toMatchObject({ _tag: "StoreCorrupt", path: object })
    expect((await run(store.resolve("ds"))).id).toBe(v1.id)
    expect(await readdir(join(root, "datasets", "ds", "versions"))).toEqual([`${v1.id}.json`])
    expect(await readdir(join(root, "objects", "tmp"))).toEqual([])
    await writeFile(object, original)
    const v2 = await run(store.commit({ dataset: "ds", segments: [s2, s2], lineage: lineage("c", 2) }))
    expect(v2.manifest).toMatchObject({ parent: v1.id, counts: { added: 1, duplicates_dropped: 0 } })
  })

  it("rebuild a damaged id index from its segment instead of trusting it", async () => {
    const s1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const v1 = await run(store.commit({ dataset: "ds", segments: [s1], lineage: lineage("c", 1) }))
    const committed = v1.manifest.segments[0].hash
    const ids = join(root, "objects", committed.slice(0, 2), `${committed}.ids`)
    const good = await readFile(ids)
    await writeFile(ids, Buffer.concat([good.subarray(0, good.length - 32), Buffer.alloc(32)]))
    const s2 = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: [round1[0], sft("new", "x", 1, 2)] }))
    const v2 = await run(store.commit({ dataset: "ds", segments: [s2], lineage: lineage("c", 2) }))
    expect(v2.manifest.counts).toMatchObject({ added: 1, duplicates_dropped: 1, records: 4 })
    expect((await readFile(ids)).equals(good)).toBe(true)
  })
})
