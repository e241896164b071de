import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { readdir, utimes, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import type { Version } from "./manifest.js"
import { DatasetStore, type DatasetStoreApi } from "./store.js"
import { failure, lineage, run, sft } from "../tests/support/storeFixtures.js"
import { useTempStore } from "../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const expectLinearChain = (log: ReadonlyArray<Version>, n: number) => {
  expect(log.map((v) => v.manifest.sequence)).toEqual(Array.from({ length: n }, (_, i) => n - i))
  log.forEach((version, i) => expect(version.manifest.parent).toBe(log[i + 1]?.id ?? null))
  expect(log[0].manifest.counts.records).toBe(n)
}

describe("concurrent commits", () => {
  it("land as separate versions in one linear chain (parallel store instances)", async () => {
    const writers = 6
    const results = await Promise.all(Array.from({ length: writers }, async (_, i) => {
      const own = DatasetStore.make(root)
      const segment = await run(own.stageSegment({ campaignId: `camp${i}`, round: 1, shard: 0, records: [sft(`q${i}`, "a", i)] }))
      return run(own.commit({ dataset: "shared", segments: [segment], lineage: lineage(`camp${i}`, 1) }))
    }))
    expect(results.every((r) => r.created)).toBe(true)
    const log = await run(store.log("shared"))
    expectLinearChain(log, writers)
    expect(new Set(log.map((v) => v.manifest.lineage.commit_key))).toEqual(new Set(results.map((r) => r.manifest.lineage.commit_key)))
    expect(await readdir(join(root, "datasets", "shared", "refs"))).toEqual(["HEAD"])
  })

  it("land as separate versions in one linear chain (separate processes)", async () => {
    const script = raceScript()
    const processes = 3
    const rounds = 4
    const outputs = await Promise.all(Array.from({ length: processes }, (_, i) =>
      promisify(execFile)(process.execPath, [script, root, "shared", `proc${i}`, String(rounds)])))
    const committed = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as Array<string>)
    const log = await run(store.log("shared"))
    expectLinearChain(log, processes * rounds)
    expect(new Set(log.map((v) => v.id))).toEqual(new Set(committed))
  }, 60_000)

  it("collapse to one version when they share a commit_key (a retried activity racing its zombie)", async () => {
    const segment = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q", "a", 1)] }))
    const results = await Promise.all(Array.from({ length: 4 }, () =>
      run(DatasetStore.make(root).commit({ dataset: "ds", segments: [segment], lineage: lineage("c", 1) }))))
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(await run(store.log("ds"))).toHaveLength(1)
    expect(await readdir(join(root, "datasets", "ds", "versions"))).toEqual([`${results[0].id}.json`])
  })

  it("breaks a stale HEAD lock and waits for a live one", async () => {
    const seg = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q", "a", 1)] }))
    await run(store.commit({ dataset: "ds", segments: [seg], lineage: lineage("c", 1) }))
    const lock = join(root, "datasets", "ds", "refs", "HEAD.lock")
    await writeFile(lock, "dead-process")
    const old = new Date(Date.now() - 60_000)
    await utimes(lock, old, old)
    const v2 = await run(store.commit({ dataset: "ds", segments: [], lineage: lineage("c", 2) }))
    expect(v2.manifest.sequence).toBe(2)

    await writeFile(lock, "live-process")
    const impatient = DatasetStore.make(root, { commit: { maxAttempts: 3, lock: { staleAfterMs: 30_000, waitAtMostMs: 200 } } })
    const error = await failure(impatient.commit({ dataset: "ds", segments: [], lineage: lineage("c", 3) }))
    expect(error).toMatchObject({ _tag: "CommitConflict", dataset: "ds" })
    expect((await run(store.resolve("ds"))).id).toBe(v2.id)
  })
})

/** The compiled race entry point (`npm test` compiles the repo with tsc before vitest runs). */
const raceScript = (): string => {
  const built = fileURLToPath(new URL("../dist/tests/support/commitRace.js", import.meta.url))
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` (npm test does) before this test`)
  return built
}
