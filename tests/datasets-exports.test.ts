import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensurePythonEnv } from "../trainers/pythonEnv.js"
import { makeRecord, type DatasetRecord } from "../datasets/record.js"
import type { DatasetStoreApi } from "../datasets/store.js"
import { failure, lineage, run, tempStore } from "./support/storeFixtures.js"
import { consumeExports } from "./support/datasetsConsumers.js"

/** The real consumers, pinned: what users load winnow exports with. */
const CONSUMERS = ["datasets==5.2.0", "pyarrow==26.0.1"]

let store: DatasetStoreApi
let cleanup: () => Promise<void>
let out: string
let python: string

const sftRecord = (prompt: string, response: string, score: number, round: number, system?: string): DatasetRecord =>
  makeRecord({
    kind: "sft",
    prompt_id: `p-${prompt}`,
    messages: [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user" as const, content: prompt }],
    response,
    score,
    scores: { reward: score, quality: 1 - score / 2 },
    round,
    sample_index: 0,
    meta: { tokens: response.length }
  })

const multiTurn = makeRecord({
  kind: "sft",
  prompt_id: "p-multi",
  messages: [
    { role: "system", content: "你是一个乐于助人的助手。" },
    { role: "user", content: "第一问" },
    { role: "assistant", content: "第一答" },
    { role: "user", content: "第二问" }
  ],
  response: "第二答",
  score: 0.66,
  scores: { reward: 0.66, quality: 0.5 },
  round: 1
})

const pair = makeRecord({
  kind: "dpo",
  prompt_id: "p-pair",
  messages: [{ role: "user", content: "写一句关于秋天的诗。" }],
  chosen: "秋风送爽，落叶知归。",
  rejected: "秋天。",
  score: 0.8,
  scores: { reward: 0.8, quality: 0.6 },
  score_chosen: 0.8,
  score_rejected: 0.2,
  round: 2
})

beforeAll(async () => {
  ;({ store, cleanup } = await tempStore())
  out = await mkdtemp(join(tmpdir(), "winnow-exports-"))
  python = await ensurePythonEnv(CONSUMERS)
  const round1 = [sftRecord("What is 2+2?", "4", 0.9, 1), sftRecord("请解释什么是量子纠缠。", "量子纠缠是两个粒子状态相关联的现象。", 0.7, 1, "Answer briefly."), multiTurn]
  const round2 = [sftRecord("Name a prime number.", "7 is prime.", 0.5, 2), pair]
  for (const [round, records] of [[1, round1], [2, round2]] as const) {
    const segment = await run(store.stageSegment({ campaignId: "exp", round, shard: 0, records }))
    await run(store.commit({ dataset: "zh-en", segments: [segment], lineage: { ...lineage("exp", round), round_stats: { prompts: 3, generated: 12, accepted: records.length } } }))
  }
}, 900_000)

afterAll(async () => {
  await cleanup()
  await rm(out, { recursive: true, force: true })
})

/** Runs the consumers on a spec; every call shares one `datasets` cache, as one user's machine does. */
const consume = (spec: unknown) => consumeExports(python, out, spec)

describe("exports load in Hugging Face datasets and pyarrow", () => {
  it("sft and dpo as JSONL and Parquet, raw as Parquet", async () => {
    const pulls = [
      ["sft", "jsonl"], ["sft", "parquet"], ["dpo", "jsonl"], ["dpo", "parquet"], ["raw", "parquet"]
    ] as const
    const results = []
    for (const [schema, format] of pulls) {
      results.push(await run(store.pull({ ref: "zh-en", schema, format, out: join(out, `${schema}.${format}`) })))
    }
    expect(results.map((r) => [r.records, r.skipped])).toEqual([[4, 1], [4, 1], [1, 4], [1, 4], [5, 0]])
    const seen = await consume({
      loads: [
        { name: "sft-json", kind: "json", path: join(out, "sft.jsonl") },
        { name: "sft-parquet", kind: "parquet", path: join(out, "sft.parquet") },
        { name: "sft-pyarrow", kind: "pyarrow", path: join(out, "sft.parquet") },
        { name: "dpo-json", kind: "json", path: join(out, "dpo.jsonl") },
        { name: "dpo-parquet", kind: "parquet", path: join(out, "dpo.parquet") },
        { name: "raw-pyarrow", kind: "pyarrow", path: join(out, "raw.parquet") }
      ]
    })
    for (const name of ["sft-json", "sft-parquet"]) {
      expect(seen[name].rows).toBe(4)
      expect(seen[name].columns).toEqual(["messages", "score", "scores", "id", "prompt_id", "round", "provenance"])
    }
    const zh = (await readFile(join(out, "sft.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .find((row) => row.messages.some((m: { content: string }) => m.content.includes("量子")))
    expect(zh.messages).toEqual([
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "请解释什么是量子纠缠。" },
      { role: "assistant", content: "量子纠缠是两个粒子状态相关联的现象。" }
    ])
    expect(zh.scores).toEqual({ quality: 0.65, reward: 0.7 })
    expect(seen["sft-pyarrow"].compression).toEqual(["ZSTD"])
    for (const name of ["dpo-json", "dpo-parquet"]) {
      expect(seen[name].rows).toBe(1)
      expect(seen[name].first).toMatchObject({
        prompt: [{ role: "user", content: "写一句关于秋天的诗。" }],
        chosen: [{ role: "assistant", content: "秋风送爽，落叶知归。" }],
        rejected: [{ role: "assistant", content: "秋天。" }],
        score_chosen: 0.8,
        score_rejected: 0.2,
        prompt_id: "p-pair"
      })
    }
    expect(seen["raw-pyarrow"].rows).toBe(5)
    expect(seen["raw-pyarrow"].columns).toContain("meta")
  })

  it("LLaMA-Factory sharegpt files with matching dataset_info.json entries; alpaca refuses multi-turn conversations", async () => {
    const dir = join(out, "llamafactory")
    await run(store.pull({ ref: "zh-en", schema: "sharegpt", format: "jsonl", out: join(dir, "chat.jsonl"), name: "zh-en-chat" }))
    const pairs = await run(store.pull({ ref: "zh-en", schema: "sharegpt-dpo", format: "jsonl", out: join(dir, "pairs.jsonl") }))
    expect(pairs.files).toEqual([join(dir, "pairs.jsonl"), join(dir, "dataset_info.json")])
    expect(await failure(store.pull({ ref: "zh-en", schema: "alpaca", format: "jsonl", out: join(dir, "alpaca.jsonl") })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "schema", value: "alpaca" }] })
    const info = JSON.parse(await readFile(join(dir, "dataset_info.json"), "utf8"))
    expect(Object.keys(info).sort()).toEqual(["zh-en-chat", "zh-en-sharegpt-dpo"])
    const seen = await consume({ loads: [], llama_factory: [{ dir, entry: "zh-en-chat" }, { dir, entry: "zh-en-sharegpt-dpo" }] })
    expect(seen["llama_factory:zh-en-chat"]).toMatchObject({ missing_columns: [], rows: 4, broken: 0 })
    expect(seen["llama_factory:zh-en-sharegpt-dpo"]).toMatchObject({ missing_columns: [], rows: 1, broken: 0 })
    const chat = (await readFile(join(dir, "chat.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l))
    expect(chat.find((row) => row.system === "你是一个乐于助人的助手。").conversations).toEqual([
      { from: "human", value: "第一问" }, { from: "gpt", value: "第一答" }, { from: "human", value: "第二问" }, { from: "gpt", value: "第二答" }
    ])
  })

  it("a Hugging Face dataset-repo folder with shards, card and charts that load_dataset(path) reads", async () => {
    const repo = join(out, "repo")
    const result = await run(store.pull({ ref: "zh-en", schema: "sft", format: "hf", out: repo, rowsPerShard: 3 }))
    expect(result.records).toBe(4)
    expect((await readdir(join(repo, "data"))).sort()).toEqual(["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"])
    const seen = await consume({ loads: [{ name: "repo", kind: "repo", path: repo }] })
    expect(seen.repo.rows).toBe(4)
    expect(seen.repo.columns).toEqual(["messages", "score", "scores", "id", "prompt_id", "round", "provenance"])
    const card = await readFile(join(repo, "README.md"), "utf8")
    expect(card.startsWith("---\npretty_name: \"zh-en\"\nlanguage:\n- zh\n- en\n")).toBe(true)
    expect(card).toContain("    path: data/train-*")
    expect(card).toContain("## Lineage")
    expect(card).toContain("wf-exp / run-1")
    expect(card).toMatch(/\| 1 \| [0-9a-f]{16} \| 3 \| 3 \| 0 \| 0 \| 0 \| 100\.0% \| 25\.0% \(3\/12\) \|/)
    const charts = (await readdir(join(repo, "charts"))).sort()
    expect(charts).toEqual(["rounds.svg", "score.svg", "scorer-quality.svg", "scorer-reward.svg"])
    for (const chart of charts) {
      const svg = await readFile(join(repo, "charts", chart), "utf8")
      expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true)
      expect(card).toContain(`(charts/${chart})`)
    }
    expect(await readFile(join(repo, "charts", "score.svg"), "utf8")).toContain("round 2")
    const lineageFile = JSON.parse(await readFile(join(repo, "winnow", "lineage.json"), "utf8"))
    expect(lineageFile.map((v: { sequence: number }) => v.sequence)).toEqual([2, 1])
  })

  it("refuses to replace a non-empty folder without force, and leaves it as it was", async () => {
    const repo = join(out, "occupied")
    await run(store.pull({ ref: "zh-en@1", schema: "sft", format: "hf", out: repo }))
    const before = await readFile(join(repo, "README.md"), "utf8")
    const error = await failure(store.pull({ ref: "zh-en", schema: "sft", format: "hf", out: repo }))
    expect(error).toMatchObject({ _tag: "InputInvalid", issues: [{ path: "out", value: repo }] })
    expect(await readFile(join(repo, "README.md"), "utf8")).toBe(before)
    await run(store.pull({ ref: "zh-en", schema: "sft", format: "hf", out: repo, force: true }))
    expect(await readFile(join(repo, "README.md"), "utf8")).not.toBe(before)
    expect((await readdir(out)).filter((name) => name.startsWith(".occupied"))).toEqual([])
  })
})
