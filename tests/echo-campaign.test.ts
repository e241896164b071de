import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { stringify } from "yaml"
import { echoModelHash } from "../models/echoGenerator.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startTestCluster, tempDir } from "./support/harness.js"

const PROMPTS = [
  "请用两句话解释光合作用。", "Explain binary search to a child.", "写一首关于秋天的短诗。", "Name three uses of hash tables.",
  "水为什么会结冰？", "Why is the sky blue?", "介绍一下丝绸之路。", "Give two facts about black holes.",
  "复利是什么意思？", "What is recursion?", "怎样泡一杯好茶？", "Describe the water cycle."
]

/** An echo-backend spec over the prompts above: N = 3, `{sample}/{n}` in the template, shards of 5 prompts. */
const writeEchoSpec = (dir: string, name: string, extra: Record<string, unknown> = {}): string => {
  const prompts = join(dir, "prompts.jsonl")
  writeFileSync(prompts, PROMPTS.map((prompt, i) => JSON.stringify({ id: `q${i}`, prompt })).join("\n") + "\n")
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify({
    name,
    prompts,
    generator: { backend: { type: "echo", template: "[{sample}/{n}] {prompt}" }, n: 3, max_new_tokens: 256 },
    scorers: [{ name: "length", type: "heuristic", metric: "length_chars" }],
    selection: { policy: "best_of_n", k: 1 },
    sharding: { prompts_per_shard: 5, max_concurrent_shards: 2 },
    output: { dataset: name },
    ...extra
  }))
  return path
}

describe("the echo backend: a campaign's plumbing without a model", () => {
  let worker: RunningWorker
  let env: Record<string, string>
  let home: string

  beforeAll(async () => {
    ;({ home, env, worker } = await startTestCluster("echo"))
  })
  afterAll(async () => worker?.shutdown())

  it("runs through Temporal and commits, per prompt, the best of its N templated samples", async () => {
    const dir = tempDir("echo-spec")
    const run = await runCli(["run", writeEchoSpec(dir, "echo-dry"), "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    expect(lastJson(run.stdout)).toMatchObject({ outcome: "ok", dataset: "echo-dry", generated: 36, accepted: 12, kept: 12 })

    const show = await runCli(["dataset", "show", "echo-dry", "--json"], env)
    expect(show.code, show.stderr).toBe(0)
    const lineage = JSON.parse(show.stdout).lineage
    expect(lineage.generator).toMatchObject({ model: "echo", model_hash: echoModelHash("[{sample}/{n}] {prompt}") })

    const out = join(home, "echo-dry.jsonl")
    expect((await runCli(["dataset", "pull", "echo-dry", "--out", out], env)).code).toBe(0)
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    // length_chars ranks the longest sample first: sample 2 of 3 writes its line three times.
    const expected = PROMPTS.map((prompt) => Array.from({ length: 3 }, () => `[2/3] ${prompt}`).join("\n")).sort()
    expect(rows.map((r) => r.messages.at(-1).content).sort()).toEqual(expected)
    for (const row of rows) {
      const prompt = row.messages.at(-2).content as string
      expect(row.messages.at(-1).content.startsWith(`[2/3] ${prompt}`)).toBe(true)
      expect(row.score).toBe([...row.messages.at(-1).content].length)
    }
  })

  it("refuses a model beside the echo backend and an lm_stats scorer that would read log-probabilities it does not record", async () => {
    const dir = tempDir("echo-bad")
    const withModel = join(dir, "with-model.yaml")
    writeFileSync(withModel, readFileSync(writeEchoSpec(dir, "echo-bad"), "utf8").replace("generator:\n", "generator:\n  model: models/tiny-chat\n"))
    const bad = await runCli(["spec", "validate", withModel], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("generator.model: got \"models/tiny-chat\", expected no model with generator.backend.type \"echo\"")

    const lmStats = await runCli(["spec", "validate", writeEchoSpec(dir, "echo-nll", { scorers: [{ name: "nll", type: "lm_stats" }] })], env)
    expect(lmStats.code).toBe(2)
    expect(lmStats.stderr).toContain("scorers[0].model")
    expect(lmStats.stderr).toContain("the echo backend records no log-probabilities")
  })
})
