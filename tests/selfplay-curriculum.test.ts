import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

/**
 * Prompts the demo's tiny model always "solves" (no reference, and the verifier passes prompts
 * without one) and prompts it never does (a reference no word salad contains).
 */
const curriculumPrompts = (dir: string): string => {
  const path = join(dir, "prompts.jsonl")
  const solved = ["写一首关于秋天的短诗。", "Describe a quiet morning.", "介绍一下长城。"].map((prompt, i) => ({ id: `easy-${i}`, prompt }))
  const unsolved = ["计算 17 + 25 - 3 等于多少？", "What is 19 + 4 - 2?", "计算 8 + 9 + 10 等于多少？"].map((prompt, i) => ({ id: `hard-${i}`, prompt, reference: "424242" }))
  writeFileSync(path, [...solved, ...unsolved].map((row) => JSON.stringify(row)).join("\n") + "\n")
  return path
}

describe("the curriculum", () => {
  let worker: RunningWorker
  let env: Record<string, string>

  beforeAll(async () => {
    ;({ env, worker } = await startTestCluster("curriculum"))
  })
  afterAll(async () => {
    await worker?.shutdown()
  })

  it("drops solved prompts, samples unsolved ones again with the reference as a hint, and raises the threshold each round", async () => {
    const dir = tempDir("curriculum-spec")
    const spec = writeDemoSpec(dir, "curriculum", (s) => {
      s.prompts = curriculumPrompts(dir)
      s.scorers = [{ name: "correct", type: "verifier", check: "answer_match", missing_reference: "pass", weight: 1 }]
      s.selection = { policy: "threshold", min_score: -1 }
      s.rounds = 2
      s.curriculum = { drop_solved: true, hint_unsolved: true, threshold_schedule: { start: -1, step: 0.5, max: 0 } }
      s.output = { dataset: "curriculum", dedup: { near: false } }
    })
    const run = await runCli(["run", spec, "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    expect(lastJson(run.stdout)).toMatchObject({ rounds: 2, generated: 4 * 6 + 4 * 6 })

    const log = lastJson((await runCli(["dataset", "log", "curriculum", "--json"], env)).stdout)
    expect(log.map((v: any) => v.lineage.selection.min_score)).toEqual([-0.5, -1])
    const out = join(dir, "raw.jsonl")
    expect((await runCli(["dataset", "pull", "curriculum", "--schema", "raw", "--out", out], env)).code).toBe(0)
    const records = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    const round2 = records.filter((r) => r.round === 2)
    expect(new Set(round2.map((r) => r.prompt_id))).toEqual(new Set(["hard-0", "hard-1", "hard-2"]))
    const rationalized = round2.filter((r) => JSON.parse(r.meta).rationalized === true)
    expect(rationalized.length).toBeGreaterThan(0)
    for (const record of rationalized) {
      const prompt = record.messages.at(-1).content
      expect(prompt).not.toMatch(/提示|Hint/)
    }
  })

  it("stops once every prompt has given its cap of records, saying why", async () => {
    const dir = tempDir("curriculum-cap")
    const spec = writeDemoSpec(dir, "capped", (s) => {
      s.prompts = curriculumPrompts(dir)
      s.scorers = [{ name: "correct", type: "verifier", check: "answer_match", missing_reference: "pass" }]
      s.selection = { policy: "best_of_n", k: 1 }
      s.rounds = 3
      s.curriculum = { max_records_per_prompt: 1 }
      s.output = { dataset: "capped", dedup: { near: false } }
    })
    const run = await runCli(["run", spec, "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    const summary = lastJson(run.stdout)
    expect(summary).toMatchObject({ rounds: 1, kept: 6 })
    expect(summary.stopReason).toContain("6 capped")
  })
})
