import { execFile } from "node:child_process"
import { readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { promisify } from "node:util"
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3"
import { afterEach, describe, expect, it } from "vitest"
import { storeLayout, type StoreLayout } from "../datasets/layout.js"
import { layoutAt, storeLocation } from "../datasets/location.js"
import type { DatasetRecord } from "../datasets/record.js"
import { compareAndSwapHead, readHead } from "../datasets/refs.js"
import { DatasetStore, type DatasetStoreApi } from "../datasets/store.js"
import { collect, failure, lineage, run, sft } from "./support/storeFixtures.js"
import { repoRoot, tempDir } from "./support/harness.js"
import { freshBucket, s3StoreEnv, testS3Client } from "./support/s3Server.js"

/** One store under test: how to open it (again, as another process or machine would) and damage one of its objects. */
interface Backend {
  readonly store: DatasetStoreApi
  readonly layout: StoreLayout
  /** Another instance over the same store: on S3 with its own home, so nothing is cached yet. */
  readonly elsewhere: () => DatasetStoreApi
  readonly damage: (hash: string) => Promise<void>
  readonly cleanup: () => Promise<void>
}

const fsBackend = async (): Promise<Backend> => {
  const root = tempDir("store-fs")
  return {
    store: DatasetStore.make(root),
    layout: storeLayout(root),
    elsewhere: () => DatasetStore.make(root),
    damage: async (hash) => {
      const path = join(root, "objects", hash.slice(0, 2), `${hash}.parquet`)
      const bytes = await readFile(path)
      bytes[20] ^= 0xff
      await writeFile(path, bytes)
    },
    cleanup: () => rm(root, { recursive: true, force: true })
  }
}

const s3Backend = async (): Promise<Backend> => {
  const bucket = await freshBucket("store")
  const homes = [tempDir("store-s3")]
  const open = (home: string) => {
    const location = storeLocation(s3StoreEnv(bucket, "team/winnow"), home)
    return { store: DatasetStore.at(location, home), layout: layoutAt(location, home) }
  }
  const client = testS3Client()
  return {
    ...open(homes[0]!),
    elsewhere: () => {
      homes.push(tempDir("store-s3-other"))
      return open(homes.at(-1)!).store
    },
    damage: async (hash) => {
      const Key = `team/winnow/objects/${hash.slice(0, 2)}/${hash}.parquet`
      const bytes = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToByteArray())
      bytes[20] ^= 0xff
      await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes }))
    },
    cleanup: async () => {
      client.destroy()
      await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })))
    }
  }
}

const BACKENDS = { fs: fsBackend, s3: s3Backend } as const
const round1 = [sft("2+2?", "4", 0.9, 1), sft("capital of France?", "Paris", 0.7, 1), sft("你好吗？", "我很好，谢谢。", 0.8, 1)]
const ids = (records: ReadonlyArray<DatasetRecord>) => records.map((r) => r.id).sort()

describe.each(Object.keys(BACKENDS) as Array<keyof typeof BACKENDS>)("the dataset store on %s", (kind) => {
  let backend: Backend
  afterEach(() => backend?.cleanup())
  const open = async () => (backend = await BACKENDS[kind]())

  it("stages, commits, resolves and reads back every record, from this instance and from another", async () => {
    const { store, elsewhere } = await open()
    const a = await run(store.stageSegment({ campaignId: "camp1", round: 1, shard: 0, records: round1.slice(0, 2) }))
    const b = await run(store.stageSegment({ campaignId: "camp1", round: 1, shard: 1, records: round1.slice(2) }))
    const staged = await run(store.listStaged("camp1", 1))
    expect(staged.map((s) => s.hash)).toEqual([a.hash, b.hash])
    const v1 = await run(store.commit({ dataset: "math", segments: staged, lineage: lineage("camp1", 1) }))
    expect(v1).toMatchObject({ created: true, manifest: { sequence: 1, parent: null, counts: { records: 3, added: 3 } } })
    expect(store.location).toEqual(kind === "fs" ? store.root : expect.stringMatching(/^s3:\/\/store-.*\/team\/winnow$/))

    const other = elsewhere()
    const resolved = await run(other.resolve("math"))
    expect(resolved.id).toBe(v1.id)
    expect(ids(await collect(other.readRecords(resolved.manifest, { verify: true })))).toEqual(ids(round1))
    expect(await run(other.list())).toEqual([{ name: "math", head: v1.id, sequence: 1, records: 3, updated_at: v1.manifest.created_at }])

    const retried = await run(other.commit({ dataset: "math", segments: staged, lineage: lineage("camp1", 1) }))
    expect(retried).toMatchObject({ id: v1.id, created: false })
    const fresh = sft("1+1?", "2", 0.95, 2)
    const s2 = await run(other.stageSegment({ campaignId: "camp1", round: 2, shard: 0, records: [fresh, round1[0]!] }))
    const v2 = await run(other.commit({ dataset: "math", segments: [s2], lineage: lineage("camp1", 2) }))
    expect(v2.manifest).toMatchObject({ sequence: 2, parent: v1.id, counts: { records: 4, added: 1, duplicates_dropped: 1 } })
    expect((await run(store.log("math"))).map((v) => v.id)).toEqual([v2.id, v1.id])
    expect(ids(await collect(store.readRecords(v2.manifest)))).toEqual(ids([...round1, fresh]))

    await run(store.tag("math", "first", "1"))
    expect((await run(other.resolve("math@first"))).id).toBe(v1.id)
    await run(other.tag("math", "first", "2"))
    expect((await run(store.resolve("math@first"))).id).toBe(v2.id)
    expect(await failure(store.resolve("nope"))).toMatchObject({ _tag: "NotFound", kind: "dataset", hint: "datasets: math" })
    const diff = await run(other.diff("math@1", "math@2"))
    expect(diff).toMatchObject({ added: 1, removed: 0, common: 3 })
  })

  it("lets exactly one of many committers move HEAD from the same head, step after step", async () => {
    const { layout } = await open()
    const winners: string[] = []
    for (let step = 0; step < 4; step++) {
      const head = await run(readHead(layout, "race"))
      expect(head).toBe(winners.at(-1) ?? null)
      const candidates = Array.from({ length: 6 }, (_, i) => `${step}${i}`.padStart(16, "a"))
      const swapped = await Promise.all(candidates.map((id) => run(compareAndSwapHead(layout, "race", head, id))))
      expect(swapped.filter(Boolean)).toHaveLength(1)
      winners.push(candidates[swapped.indexOf(true)]!)
      expect(await run(compareAndSwapHead(layout, "race", head, "f".repeat(16)))).toBe(false)
    }
    expect(await run(readHead(layout, "race"))).toBe(winners.at(-1))
  })

  it("keeps concurrent commits from parallel instances in one linear chain", async () => {
    const { store, elsewhere } = await open()
    const writers = 5
    const results = await Promise.all(Array.from({ length: writers }, async (_, i) => {
      const own = elsewhere()
      const segment = await run(own.stageSegment({ campaignId: `camp${i}`, round: 1, shard: 0, records: [sft(`q${i}`, "a", i / 10)] }))
      return run(own.commit({ dataset: "shared", segments: [segment], lineage: lineage(`camp${i}`, 1) }))
    }))
    expect(results.every((r) => r.created)).toBe(true)
    const log = await run(store.log("shared"))
    expect(log.map((v) => v.manifest.sequence)).toEqual([5, 4, 3, 2, 1])
    log.forEach((version, i) => expect(version.manifest.parent).toBe(log[i + 1]?.id ?? null))
    expect(new Set(log.map((v) => v.id))).toEqual(new Set(results.map((r) => r.id)))
    expect(log[0]!.manifest.counts.records).toBe(writers)
  })

  it("collects garbage, verifies, and refuses a damaged segment", async () => {
    const { store, elsewhere, layout } = await open()
    const s1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: round1 }))
    const v1 = await run(store.commit({ dataset: "ds", segments: [s1], lineage: lineage("c", 1) }))
    const gone = await run(store.stageSegment({ campaignId: "gone", round: 1, shard: 0, records: [sft("dropped", "x", 0.1)] }))
    const stored = (hash: string) => layout.blobs.objectExists(layout.objectPath(hash, "parquet"))
    expect(await stored(gone.hash)).toBe(true)
    const report = await run(store.gc({ graceMs: 0, abandon: ["gone"] }))
    expect(report).toMatchObject({ stagingRounds: 1, abandonedRounds: 1 })
    expect(report.objects.files).toBeGreaterThanOrEqual(1)
    expect(await stored(gone.hash)).toBe(false)
    expect(await stored(v1.manifest.segments[0]!.hash)).toBe(true)
    expect(await run(store.listStaged("c", 1))).toEqual([])
    expect(await run(store.listStaged("gone", 1))).toEqual([])
    expect(await run(store.verify("ds"))).toMatchObject({ ok: true, segmentsChecked: 1 })
    expect(ids(await collect(elsewhere().readRecords(v1.manifest)))).toEqual(ids(round1))

    const committed = v1.manifest.segments[0]!.hash
    await backend.damage(committed)
    const checked = await run(elsewhere().verify("ds"))
    expect(checked.ok).toBe(false)
    expect(checked.corrupt[0]).toMatchObject({ _tag: "StoreCorrupt", reason: expect.stringMatching(/^content hash is /) })
    await expect(collect(elsewhere().readRecords(v1.manifest))).rejects.toMatchObject({ _tag: "StoreCorrupt" })
  })
})

describe("commits racing on S3 from separate processes", () => {
  it("land as one linear chain whose records equal the same commits made on the filesystem", async () => {
    const bucket = await freshBucket("race")
    const home = tempDir("race-s3")
    const env = { ...process.env, ...s3StoreEnv(bucket) }
    const script = join(repoRoot, "dist/tests/support/commitRace.js")
    const outputs = await Promise.all(Array.from({ length: 3 }, (_, i) =>
      promisify(execFile)(process.execPath, [script, `s3://${bucket}`, "shared", `proc${i}`, "3"], { env: { ...env, WINNOW_HOME: join(home, `p${i}`) } })))
    const committed = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as string[])
    const s3 = DatasetStore.at(storeLocation(env, home), home)
    const log = await run(s3.log("shared"))
    expect(log.map((v) => v.manifest.sequence)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1])
    expect(new Set(log.map((v) => v.id))).toEqual(new Set(committed))

    const root = tempDir("race-fs")
    await promisify(execFile)(process.execPath, [script, root, "shared", "proc0", "3"])
    await promisify(execFile)(process.execPath, [script, root, "shared", "proc1", "3"])
    await promisify(execFile)(process.execPath, [script, root, "shared", "proc2", "3"])
    const local = DatasetStore.make(root)
    const records = async (store: DatasetStoreApi) =>
      [...await collect(store.readRecords((await run(store.resolve("shared"))).manifest))].sort((a, b) => (a.id < b.id ? -1 : 1))
    expect(await records(s3)).toEqual(await records(local))
    const client = testS3Client()
    const keys = (await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "datasets/shared/refs/" }))).Contents?.map((c) => c.Key)
    client.destroy()
    expect(keys).toEqual(["datasets/shared/refs/HEAD"])
    await Promise.all([rm(home, { recursive: true, force: true }), rm(root, { recursive: true, force: true })])
  }, 170_000)
})
