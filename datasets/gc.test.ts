import { existsSync } from "node:fs"
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { DatasetStoreApi } from "./store.js"
import { failure, lineage, run, sft } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const objectFiles = async (): Promise<string[]> => {
  const dirs = (await readdir(join(root, "objects"))).filter((d) => /^[0-9a-f]{2}$/.test(d))
  return (await Promise.all(dirs.map((d) => readdir(join(root, "objects", d))))).flat().sort()
}

/** Sets a file's modification time `hours` back (past the collector's grace period). */
const age = (path: string, hours = 2) => {
  const then = new Date(Date.now() - hours * 3600_000)
  return utimes(path, then, then)
}

const ageAll = async () => {
  for (const d of (await readdir(join(root, "objects"))).filter((x) => /^[0-9a-f]{2}$/.test(x))) {
    for (const f of await readdir(join(root, "objects", d))) await age(join(root, "objects", d, f))
  }
}

const records = async (ref: string) => (await run(Stream.runCollect(store.readRecords((await run(store.resolve(ref))).manifest, { verify: true })))).length

describe("dataset gc", () => {
  it("removes staged copies of committed rounds and strays, keeps every version readable and pending staging intact", async () => {
    const staged1 = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q1", "a", 0.5, 1), sft("q2", "b", 0.6, 1)] }))
    const staged1b = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 1, records: [sft("q3", "c", 0.7, 1)] }))
    await run(store.commit({ dataset: "ds", segments: [staged1, staged1b], lineage: lineage("c", 1) }))
    const pending = await run(store.stageSegment({ campaignId: "c", round: 2, shard: 0, records: [sft("q4", "d", 0.4, 2)] }))
    await mkdir(join(root, "objects", "tmp"), { recursive: true })
    await writeFile(join(root, "objects", "tmp", "123.partial.parquet"), "half")
    await age(join(root, "objects", "tmp", "123.partial.parquet"))
    await ageAll()
    const head = await run(store.resolve("ds"))
    const kept = head.manifest.segments.map((s) => s.hash)
    expect(kept).not.toContain(staged1.hash)

    const before = await objectFiles()
    const dry = await run(store.gc({ dryRun: true }))
    expect(dry).toMatchObject({ dryRun: true, stagingRounds: 1, partialWrites: { files: 1, bytes: 4 } })
    expect(dry.objects.files).toBeGreaterThanOrEqual(2)
    expect(await objectFiles()).toEqual(before)

    const report = await run(store.gc())
    expect(report).toEqual({ ...dry, dryRun: false })
    const after = await objectFiles()
    expect(after.filter((f) => f.startsWith(staged1.hash) || f.startsWith(staged1b.hash))).toEqual([])
    expect(after.some((f) => f.startsWith(pending.hash))).toBe(true)
    for (const hash of kept) expect(after.some((f) => f.startsWith(`${hash}.`))).toBe(true)
    expect(existsSync(join(root, "staging", "c", "r1"))).toBe(false)
    expect(await run(store.listStaged("c", 2))).toEqual([pending])
    expect((await run(store.verify("ds"))).ok).toBe(true)
    expect(await records("ds")).toBe(3)

    await run(store.commit({ dataset: "ds", segments: await run(store.listStaged("c", 2)), lineage: lineage("c", 2) }))
    expect(await records("ds")).toBe(4)
    expect(await run(store.commit({ dataset: "ds", segments: [], lineage: lineage("c", 1) }))).toMatchObject({ created: false, id: head.id })
  })

  it("keeps a round's staging for another output until that output commits it (outputs commit one after another)", async () => {
    const first = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q1", "a", 0.5, 1)] }))
    const other = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, output: 1, records: [sft("q1", "a", 0.5, 1), sft("q2", "b", 0.4, 1)] }))
    expect(await run(store.listStaged("c", 1))).toEqual([first])
    expect(await run(store.listStaged("c", 1, 1))).toEqual([other])
    await run(store.commit({ dataset: "ds", segments: await run(store.listStaged("c", 1)), lineage: lineage("c", 1) }))
    await ageAll()
    expect(await run(store.gc())).toMatchObject({ stagingRounds: 1 })
    expect(existsSync(join(root, "staging", "c", "r1"))).toBe(false)
    expect(await run(store.listStaged("c", 1, 1))).toEqual([other])
    expect((await objectFiles()).some((f) => f.startsWith(other.hash))).toBe(true)

    const committed = await run(store.commit({ dataset: "pairs", segments: await run(store.listStaged("c", 1, 1)), lineage: { ...lineage("c", 1), output: 1 } }))
    expect(committed.manifest.lineage.output).toBe(1)
    expect(await run(store.gc())).toMatchObject({ stagingRounds: 1 })
    expect(existsSync(join(root, "staging", "c", "r1-o1"))).toBe(false)
    expect(await records("pairs")).toBe(2)
    expect((await run(store.verify("pairs"))).ok).toBe(true)
  })

  it("spares an old unreferenced object that a new stage reuses (its time is refreshed)", async () => {
    const records = [sft("q1", "a", 0.5, 1)]
    const first = await run(store.stageSegment({ campaignId: "a", round: 1, shard: 0, records }))
    await run(store.commit({ dataset: "ds", segments: [first], lineage: lineage("a", 1) }))
    await ageAll()
    const again = await run(store.stageSegment({ campaignId: "b", round: 1, shard: 0, records }))
    expect(again.hash).toBe(first.hash)
    const object = join(root, "objects", first.hash.slice(0, 2), `${first.hash}.parquet`)
    expect((await stat(object)).mtimeMs).toBeGreaterThan(Date.now() - 60_000)
    await run(store.gc())
    expect((await objectFiles()).some((f) => f.startsWith(`${first.hash}.`))).toBe(true)
    expect(await run(store.commit({ dataset: "other", segments: [again], lineage: lineage("b", 1) }))).toMatchObject({ created: true })
  })

  it("removes an abandoned campaign's pending staging, its staged objects and its work, and nothing of others", async () => {
    const dead = await run(store.stageSegment({ campaignId: "dead", round: 3, shard: 0, records: [sft("x", "y", 0.1, 3)] }))
    const alive = await run(store.stageSegment({ campaignId: "alive", round: 1, shard: 0, records: [sft("z", "w", 0.2, 1)] }))
    await mkdir(join(root, "work", "dead", "r3", "s0"), { recursive: true })
    await writeFile(join(root, "work", "dead", "r3", "s0", "samples.jsonl"), "{}\n")
    await ageAll()
    const report = await run(store.gc({ abandon: ["dead"] }))
    expect(report).toMatchObject({ abandonedRounds: 1, workRounds: 1, stagingRounds: 0 })
    const files = await objectFiles()
    expect(files.some((f) => f.startsWith(dead.hash))).toBe(false)
    expect(files.some((f) => f.startsWith(alive.hash))).toBe(true)
    expect(existsSync(join(root, "staging", "dead", "r3"))).toBe(false)
    expect(existsSync(join(root, "work", "dead", "r3"))).toBe(false)
    expect(await run(store.listStaged("alive", 1))).toEqual([alive])
    expect(await failure(store.gc({ abandon: ["../etc"] }))).toMatchObject({ _tag: "InputInvalid" })
  })

  it("leaves files younger than the grace period, and work files unless asked", async () => {
    const staged = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q1", "a", 0.5, 1)] }))
    await run(store.commit({ dataset: "ds", segments: [staged], lineage: lineage("c", 1) }))
    const work = join(root, "work", "c", "r1", "s0")
    await mkdir(work, { recursive: true })
    await writeFile(join(work, "scored.jsonl"), "{}\n")
    const young = await run(store.gc())
    expect(young.objects.files).toBe(0)
    expect(young.workRounds).toBe(0)
    expect(existsSync(work)).toBe(true)
    expect((await run(store.gc({ work: true }))).workRounds).toBe(1)
    expect(existsSync(join(root, "work", "c", "r1"))).toBe(false)
  })

  it("removes manifests no chain reaches (a commit killed before it moved HEAD) once past the grace period, with the segments only they named", async () => {
    const first = await run(store.commit({ dataset: "ds", segments: [await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q1", "a", 0.5, 1)] }))], lineage: lineage("c", 1) }))
    const headPath = join(root, "datasets", "ds", "refs", "HEAD")
    const killed = async (round: number, prompt: string) => {
      const staged = await run(store.stageSegment({ campaignId: "c", round, shard: 0, records: [sft(prompt, "b", 0.6, round)] }))
      const version = await run(store.commit({ dataset: "ds", segments: [staged], lineage: lineage("c", round) }))
      await writeFile(headPath, `${first.id}\n`)
      return { version, own: version.manifest.segments.map((s) => s.hash).filter((h) => !first.manifest.segments.some((f) => f.hash === h)) }
    }
    const old = await killed(2, "q2")
    const young = await killed(3, "q3")
    const manifest = (id: string) => join(root, "datasets", "ds", "versions", `${id}.json`)
    await age(manifest(old.version.id))
    await ageAll()
    await rm(join(root, "staging", "c"), { recursive: true, force: true })
    const dry = await run(store.gc({ dryRun: true }))
    expect(dry.unreachableVersions).toBe(1)
    expect(existsSync(manifest(old.version.id))).toBe(true)
    const report = await run(store.gc())
    expect(report).toEqual({ ...dry, dryRun: false })
    expect(existsSync(manifest(old.version.id))).toBe(false)
    expect(existsSync(manifest(young.version.id))).toBe(true)
    const files = await objectFiles()
    expect(old.own.length).toBeGreaterThan(0)
    for (const hash of old.own) expect(files.some((f) => f.startsWith(hash))).toBe(false)
    for (const hash of young.own) expect(files.some((f) => f.startsWith(hash))).toBe(true)
    expect((await readFile(headPath, "utf8")).trim()).toBe(first.id)
    expect((await run(store.verify("ds"))).ok).toBe(true)
    expect(await records("ds")).toBe(1)
  })

  it("removes campaign folders left empty under work/ and staging/, whatever their age, and no folder with anything in it", async () => {
    const staged = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q1", "a", 0.5, 1)] }))
    await run(store.commit({ dataset: "ds", segments: [staged], lineage: lineage("c", 1) }))
    const pending = await run(store.stageSegment({ campaignId: "p", round: 1, shard: 0, records: [sft("q9", "z", 0.5, 1)] }))
    await mkdir(join(root, "work", "empty"), { recursive: true })
    await mkdir(join(root, "staging", "gone"), { recursive: true })
    await mkdir(join(root, "work", "c", "r1", "s0"), { recursive: true })
    await mkdir(join(root, "work", "c", "state"), { recursive: true })
    await writeFile(join(root, "work", "c", "state", "curriculum-x.json"), "{}")
    await mkdir(join(root, "work", "d", "r1"), { recursive: true })
    const dry = await run(store.gc({ dryRun: true, work: true, abandon: ["d"] }))
    expect(dry.emptyFolders).toBe(4)
    expect(existsSync(join(root, "work", "empty"))).toBe(true)
    const report = await run(store.gc({ work: true, abandon: ["d"] }))
    expect(report).toEqual({ ...dry, dryRun: false })
    for (const gone of ["work/empty", "staging/gone", "staging/c", "work/d"]) expect(existsSync(join(root, gone))).toBe(false)
    expect(existsSync(join(root, "work", "c", "state", "curriculum-x.json"))).toBe(true)
    expect(existsSync(join(root, "work", "c", "r1"))).toBe(false)
    expect(await run(store.listStaged("p", 1))).toEqual([pending])
    expect((await run(store.gc())).emptyFolders).toBe(0)
  })
})
