import { readdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { chooseBands, candidateProbability } from "./minhash.js"
import { makeRecord, type SftRecord } from "../record.js"
import { HashList, normalizeText, tokenHashes } from "./shingles.js"
import type { DatasetStoreApi } from "../store.js"
import { collect, failure, lineage, run, tempStore } from "../../tests/support/storeFixtures.js"
import { useTempStore } from "../../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const tokens = (text: string): Array<number> => {
  const list = new HashList()
  tokenHashes(normalizeText(text), list)
  return Array.from(list.values.subarray(0, list.length))
}

const record = (prompt: string, response: string, score: number, round = 1): SftRecord =>
  makeRecord({ kind: "sft", prompt_id: `p-${prompt}`, messages: [{ role: "user", content: prompt }], response, score, scores: { reward: score }, round })

const EN = "The mitochondria is the powerhouse of the cell because it produces most of the chemical energy needed to power biochemical reactions in living organisms today"
const EN_NEAR = "The mitochondria is the powerhouse of the cell because it produces most of the chemical energy needed to power biochemical reactions in living organisms now"
const EN_OTHER = "Photosynthesis converts light energy into chemical energy stored in glucose, releasing oxygen as a by-product for nearly every green plant on the planet"
const ZH = "量子计算利用量子比特的叠加和纠缠来处理信息，在某些特定问题上可以比经典计算机快得多，例如大数分解和量子系统模拟。"
const ZH_NEAR = "量子计算利用量子比特的叠加和纠缠来处理信息，在某些特定问题上可以比经典计算机快得多，例如大数分解与量子系统模拟。"
const ZH_OTHER = "光合作用把光能转化为储存在葡萄糖中的化学能，并释放出氧气，几乎所有绿色植物都依靠它生长。"

const commit = async (round: number, records: ReadonlyArray<SftRecord>, dedup: object = { near: {} }) => {
  const segment = await run(store.stageSegment({ campaignId: "nd", round, shard: 0, records }))
  return run(store.commit({ dataset: "nd", segments: [segment], lineage: lineage("nd", round), dedup }))
}

describe("shingling", () => {
  it("splits Chinese into characters and English into words, folding width and case", () => {
    expect(tokens("你好世界")).toHaveLength(4)
    expect(tokens("Hello,  world!")).toHaveLength(2)
    expect(tokens("ＨＥＬＬＯ　ｗｏｒｌｄ")).toEqual(tokens("hello world"))
    expect(tokens("用Python写代码")).toHaveLength(5)
    expect(tokens("，。！？…")).toEqual([])
  })

  it("picks 16 bands of 8 rows for 0.8 with 128 permutations, catching 0.8-similar pairs ≥ 90% of the time", () => {
    expect(chooseBands(0.8, 128)).toEqual({ bands: 16, rows: 8 })
    expect(candidateProbability(0.8, 16, 8)).toBeGreaterThan(0.9)
    expect(candidateProbability(0.4, 16, 8)).toBeLessThan(0.02)
  })
})

describe("near-duplicate removal in commits", () => {
  it("keeps the best of near-duplicate answers to one prompt, in English and in Chinese", async () => {
    const v = await commit(1, [
      record("Explain mitochondria.", EN, 0.4), record("Explain mitochondria.", EN_NEAR, 0.9), record("Explain mitochondria.", EN_OTHER, 0.5),
      record("解释量子计算。", ZH, 0.8), record("解释量子计算。", ZH_NEAR, 0.3), record("解释量子计算。", ZH_OTHER, 0.6)
    ])
    expect(v.manifest.counts).toMatchObject({ staged: 6, added: 4, near_duplicates_dropped: 2, duplicates_dropped: 0 })
    const kept = (await collect(store.readRecords(v.manifest))).map((r) => (r as SftRecord).response).sort()
    expect(kept).toEqual([EN_NEAR, EN_OTHER, ZH, ZH_OTHER].sort())
    expect(v.manifest.lineage.dedup.near).toMatchObject({ threshold: 0.8, bands: 16, rows: 8, ngram: 3, scope: "response" })
  })

  it("compares answers only within a prompt in response scope, across prompts in conversation scope", async () => {
    const records = [record("Explain mitochondria.", EN, 0.4), record("What powers a cell?", EN_NEAR, 0.9)]
    expect((await commit(1, records)).manifest.counts).toMatchObject({ added: 2, near_duplicates_dropped: 0 })
    const other = await tempStore()
    try {
      const segment = await run(other.store.stageSegment({ campaignId: "nd", round: 1, shard: 0, records }))
      const v = await run(other.store.commit({ dataset: "nd", segments: [segment], lineage: lineage("nd", 1), dedup: { near: { scope: "conversation", threshold: 0.7 } } }))
      expect(v.manifest.counts).toMatchObject({ added: 1, near_duplicates_dropped: 1 })
    } finally {
      await other.cleanup()
    }
  })

  it("drops near-duplicates of earlier versions through the segment's LSH sidecar, rebuilt when missing", async () => {
    const v1 = await commit(1, [record("解释量子计算。", ZH, 0.8, 1), record("Explain mitochondria.", EN, 0.4, 1)])
    const segment = v1.manifest.segments[0].hash
    const sidecars = (await readdir(join(root, "objects", segment.slice(0, 2)))).filter((name) => name.includes(".lsh-"))
    expect(sidecars).toHaveLength(1)
    const v2 = await commit(2, [record("解释量子计算。", ZH_NEAR, 0.99, 2), record("Explain mitochondria.", EN_OTHER, 0.1, 2)])
    expect(v2.manifest.counts).toMatchObject({ staged: 2, added: 1, near_duplicates_dropped: 1, records: 3 })
    const sidecar = join(root, "objects", segment.slice(0, 2), sidecars[0])
    const good = await readFile(sidecar)
    await rm(sidecar)
    const v3 = await commit(3, [record("Explain mitochondria.", EN_NEAR, 0.7, 3)])
    expect(v3.manifest.counts).toMatchObject({ added: 0, near_duplicates_dropped: 1 })
    expect((await readFile(sidecar)).equals(good)).toBe(true)
    const damaged = Buffer.from(good)
    damaged[damaged.length - 3] ^= 0xff
    await writeFile(sidecar, damaged)
    const v4 = await commit(4, [record("解释量子计算。", ZH_NEAR, 0.5, 4)])
    expect(v4.manifest.counts).toMatchObject({ added: 0, near_duplicates_dropped: 1 })
    expect((await readFile(sidecar)).equals(good)).toBe(true)
  })

  it("keeps exact-only behaviour when no near-duplicate options are given", async () => {
    const v = await commit(1, [record("Explain mitochondria.", EN, 0.4), record("Explain mitochondria.", EN_NEAR, 0.9)], {})
    expect(v.manifest.counts).toMatchObject({ added: 2, near_duplicates_dropped: 0 })
    expect(v.manifest.lineage.dedup.near).toBeNull()
  })

  it("decontaminates against a file of evaluation prompts and records it in lineage", async () => {
    const evalFile = join(root, "eval.jsonl")
    await writeFile(evalFile, `${JSON.stringify({ prompt: "请解释一下量子计算的基本原理是什么，它和经典计算有什么根本区别？" })}\n${JSON.stringify({ question: "Name three prime numbers." })}\n`)
    const v = await commit(1, [
      record("请解释一下量子计算的基本原理是什么，它和经典计算有什么根本区别?", ZH, 0.9),
      record("Explain mitochondria.", EN, 0.5)
    ], { decontaminate: evalFile })
    expect(v.manifest.counts).toMatchObject({ added: 1, contaminated_dropped: 1 })
    expect(v.manifest.lineage.dedup.decontamination).toMatchObject({ file: evalFile, prompts: 2 })
    expect(v.manifest.lineage.dedup.near).toBeNull()
  })

  it("rejects bad dedup options and evaluation files, naming the field", async () => {
    const segment = await run(store.stageSegment({ campaignId: "nd", round: 1, shard: 0, records: [record("q", "a", 1)] }))
    const attempt = (dedup: unknown) => failure(store.commit({ dataset: "nd", segments: [segment], lineage: lineage("nd", 1), dedup: dedup as never }))
    expect(await attempt({ near: { threshold: 1.5 } })).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "dedup.near.threshold", value: 1.5 }] })
    expect(await attempt({ near: { shingles: 3 } })).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "dedup.near.shingles" }] })
    expect(await attempt({ decontaminate: join(root, "missing.jsonl") })).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "dedup.decontaminate" }] })
    await writeFile(join(root, "bad.jsonl"), "{\"prompt\": \"ok\"}\nnot json\n")
    expect(await attempt({ decontaminate: join(root, "bad.jsonl") })).toMatchObject({ _tag: "InputInvalid", issues: [{ path: expect.stringContaining("line 2") }] })
    expect((await failure(store.resolve("nd")))._tag).toBe("NotFound")
  })
})
