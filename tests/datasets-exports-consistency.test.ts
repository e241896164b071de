import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRecord, type DatasetRecord } from "../datasets/record.js"
import type { DatasetStoreApi } from "../datasets/store.js"
import { ensurePythonEnv } from "../trainers/pythonEnv.js"
import { lineage, run, tempStore } from "./support/storeFixtures.js"
import { consumeExports } from "./support/datasetsConsumers.js"

/**
 * Exports read by the real consumers the way users combine them: a dataset-repo folder exported
 * again over itself, JSONL files of several versions and datasets loaded as one, several
 * LLaMA-Factory exports sharing one `dataset_info.json`.
 */
const CONSUMERS = ["datasets==5.2.0", "pyarrow==26.0.1"]

let store: DatasetStoreApi
let cleanup: () => Promise<void>
let out: string
let python: string

const single = (prompt: string, response: string, score: number, round: number): DatasetRecord =>
  makeRecord({
    kind: "sft", prompt_id: `p-${prompt}`, messages: [{ role: "user", content: prompt }], response, score,
    scores: { reward: score }, round
  })

/** A pair scored by one more scorer than the SFT records (so an SFT export must not carry it). */
const pair = (prompt: string, chosen: string, rejected: string, round: number, system?: string): DatasetRecord =>
  makeRecord({
    kind: "dpo", prompt_id: `p-${prompt}`,
    messages: [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user" as const, content: prompt }],
    chosen, rejected, score: 0.9, scores: { reward: 0.9, judge: 0.8 }, score_chosen: 0.9, score_rejected: 0.2, round
  })

const multiTurn = makeRecord({
  kind: "sft", prompt_id: "p-multi",
  messages: [
    { role: "system", content: "你是一个乐于助人的助手。" },
    { role: "user", content: "第一问" }, { role: "assistant", content: "第一答" }, { role: "user", content: "第二问" }
  ],
  response: "第二答", score: 0.6, scores: { reward: 0.6 }, round: 1
})

beforeAll(async () => {
  ;({ store, cleanup } = await tempStore())
  out = await mkdtemp(join(tmpdir(), "winnow-exports-consistency-"))
  python = await ensurePythonEnv(CONSUMERS)
  const commit = async (dataset: string, round: number, records: ReadonlyArray<DatasetRecord>) => {
    const segment = await run(store.stageSegment({ campaignId: dataset, round, shard: 0, records }))
    await run(store.commit({ dataset, segments: [segment], lineage: lineage(dataset, round) }))
  }
  await commit("chat", 1, [single("2+2?", "4", 0.9, 1), single("天空是什么颜色？", "蓝色。", 0.7, 1), pair("写一句诗。", "春眠不觉晓。", "诗。", 1, "Be poetic.")])
  await commit("chat", 2, [single("Capital of France?", "Paris.", 0.8, 2), pair("Say hi.", "Hi there!", "no", 2)])
  await commit("talk", 1, [multiTurn, single("你好", "你好！", 0.5, 1)])
}, 900_000)

afterAll(async () => {
  await cleanup()
  await rm(out, { recursive: true, force: true })
})

/** Runs the consumers on a spec; every call shares one `datasets` cache, as one user's machine does. */
const consume = (spec: unknown) => consumeExports(python, out, spec)

const idsOf = async (ref: string, kind: "sft" | "dpo") => {
  const path = join(out, `ids-${ref.replace("@", "-")}-${kind}.jsonl`)
  await run(store.pull({ ref, schema: "raw", format: "jsonl", out: path }))
  return (await readFile(path, "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.kind === kind).map((r) => r.id as string).sort()
}

describe("exports cannot be misread by their consumers", () => {
  it("loads a dataset-repo folder exported again over itself as the new export, never the datasets cache's copy of the old one", async () => {
    const repo = join(out, "repo")
    await run(store.pull({ ref: "chat@1", schema: "sft", format: "hf", out: repo }))
    const first = await consume({ loads: [{ name: "repo", kind: "repo", path: repo }] })
    expect(first.repo.ids).toEqual(await idsOf("chat@1", "sft"))
    await run(store.pull({ ref: "chat", schema: "sft", format: "hf", out: repo, force: true }))
    const second = await consume({ loads: [{ name: "repo", kind: "repo", path: repo }] })
    expect(second.repo.ids).toEqual(await idsOf("chat", "sft"))
    expect(second.repo.rows).toBe(3)
    await run(store.pull({ ref: "chat", schema: "dpo", format: "hf", out: repo, force: true }))
    const third = await consume({ loads: [{ name: "repo", kind: "repo", path: repo }] })
    expect(third.repo.ids).toEqual(await idsOf("chat", "dpo"))
    expect(third.repo.columns).toContain("chosen")
  })

  it("writes JSONL whose columns have one type in every export, so several exports load as one dataset", async () => {
    const pulls = {
      sft: ["chat@1", "chat", "talk"], dpo: ["chat@1", "chat"], sharegpt: ["chat@1", "chat", "talk"], alpaca: ["chat@1", "chat"],
      "sharegpt-dpo": ["chat@1", "chat"], "alpaca-dpo": ["chat@1", "chat"]
    } as const
    const loads: Array<{ name: string; kind: "json"; path?: string; paths?: Array<string> }> = []
    for (const [schema, refs] of Object.entries(pulls)) {
      const paths: Array<string> = []
      for (const ref of refs) {
        const path = join(out, "jsonl", `${schema}-${ref.replace("@", "-")}.jsonl`)
        await run(store.pull({ ref, schema, format: "jsonl", out: path, name: `${schema}-${ref.replace("@", "-")}` }))
        paths.push(path)
        loads.push({ name: `${schema}:${ref}`, kind: "json", path })
      }
      loads.push({ name: `${schema}:all`, kind: "json", paths }, { name: `${schema}:all-reversed`, kind: "json", paths: [...paths].reverse() })
    }
    const seen = await consume({ loads })
    for (const load of loads) {
      expect(seen[load.name], load.name).not.toHaveProperty("error")
      expect(seen[load.name].features, `${load.name}: no column typed null (an empty list or all nulls)`).not.toMatch(/null/)
    }
    expect(seen["sft:all"].rows).toBe(2 + 3 + 2)
    expect(seen["sft:chat"].first.scores).toEqual({ reward: expect.any(Number) })
    expect(seen["alpaca:all-reversed"].rows).toBe(2 + 3)
    expect(seen["dpo:all"].rows).toBe(1 + 2)
  })

  it("lets several exports share one folder's dataset_info.json, preference pairs in LLaMA-Factory's ranking format", async () => {
    const dir = join(out, "llamafactory")
    for (const [ref, schema, file] of [
      ["chat", "sharegpt", "chat.jsonl"], ["chat", "alpaca", "chat-alpaca.jsonl"], ["chat", "sharegpt-dpo", "pairs.jsonl"],
      ["chat", "alpaca-dpo", "pairs-alpaca.jsonl"], ["talk", "sharegpt", "talk.jsonl"]
    ] as const) {
      await run(store.pull({ ref, schema, format: "jsonl", out: join(dir, file) }))
    }
    const info = JSON.parse(await readFile(join(dir, "dataset_info.json"), "utf8"))
    const entries = ["chat-alpaca", "chat-alpaca-dpo", "chat-sharegpt", "chat-sharegpt-dpo", "talk-sharegpt"]
    expect(Object.keys(info).sort()).toEqual(entries)
    expect(info["chat-sharegpt-dpo"]).toMatchObject({ file_name: "pairs.jsonl", formatting: "sharegpt", ranking: true })
    expect(info["chat-alpaca-dpo"]).toMatchObject({ file_name: "pairs-alpaca.jsonl", ranking: true })
    const seen = await consume({ loads: [], llama_factory: entries.map((entry) => ({ dir, entry })) })
    for (const entry of entries) expect(seen[`llama_factory:${entry}`], entry).toMatchObject({ missing_columns: [], broken: 0 })
    expect(seen["llama_factory:chat-sharegpt-dpo"].examples).toContainEqual({
      prompt: [{ role: "user", content: "写一句诗。" }], response: ["春眠不觉晓。", "诗。"]
    })
    expect(seen["llama_factory:chat-alpaca-dpo"].examples).toContainEqual({
      prompt: [{ role: "user", content: "Say hi." }], response: ["Hi there!", "no"]
    })
    expect(seen["llama_factory:talk-sharegpt"].examples).toContainEqual({
      prompt: [{ role: "user", content: "第一问" }, { role: "assistant", content: "第一答" }, { role: "user", content: "第二问" }],
      response: ["第二答"]
    })
    expect(seen["llama_factory:chat-alpaca"].rows).toBe(3)
  })
})
