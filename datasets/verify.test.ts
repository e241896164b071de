import { readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { DatasetStoreApi } from "./store.js"
import { failure, lineage, run, sft } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const twoVersions = async () => {
  for (const round of [1, 2]) {
    const seg = await run(store.stageSegment({ campaignId: "c", round, shard: 0,
      records: [sft(`q${round}`, "a", 0.5, round), sft(`r${round}`, "b", 0.6, round)] }))
    await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", round) }))
  }
  return run(store.resolve("ds"))
}

const objectPath = (hash: string) => join(root, "objects", hash.slice(0, 2), `${hash}.parquet`)

describe("verify", () => {
  it("passes on an intact dataset", async () => {
    const head = await twoVersions()
    const report = await run(store.verify("ds"))
    expect(report).toMatchObject({ dataset: "ds", segmentsChecked: 2, corrupt: [], ok: true })
    expect(report.versions).toHaveLength(2)
    expect(report.versions[0]).toBe(head.id)
  })

  it("detects one flipped byte in a segment", async () => {
    const head = await twoVersions()
    const path = objectPath(head.manifest.segments[0].hash)
    const bytes = await readFile(path)
    bytes[10] ^= 0x01
    await writeFile(path, bytes)
    const report = await run(store.verify("ds"))
    expect(report.ok).toBe(false)
    expect(report.corrupt).toHaveLength(1)
    expect(report.corrupt[0]).toMatchObject({ _tag: "StoreCorrupt", path })
    expect((await run(store.verify("ds@1"))).ok).toBe(false)
    expect(await failure(Stream.runCollect(store.readRecords(head.manifest, { verify: true }))))
      .toMatchObject({ _tag: "StoreCorrupt", path })
  })

  it("reports a missing segment and a truncated one", async () => {
    const head = await twoVersions()
    await rm(objectPath(head.manifest.segments[0].hash))
    const second = objectPath(head.manifest.segments[1].hash)
    await writeFile(second, (await readFile(second)).subarray(0, 20))
    const report = await run(store.verify("ds@2"))
    expect(report.corrupt.map((c) => c.reason)).toEqual(expect.arrayContaining([
      "segment object is missing",
      expect.stringMatching(/^size is 20 bytes/)
    ]))
    expect(report.corrupt).toHaveLength(2)
  })

  it("fails reading a tampered manifest with StoreCorrupt", async () => {
    const head = await twoVersions()
    const manifestPath = join(root, "datasets", "ds", "versions", `${head.id}.json`)
    const text = await readFile(manifestPath, "utf8")
    await writeFile(manifestPath, text.replace('"records": 4', '"records": 40'))
    expect(await failure(store.resolve("ds"))).toMatchObject({ _tag: "StoreCorrupt", path: manifestPath })
  })
})
