import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { arithmeticKey, generateArithmetic } from "../campaign/promptStage/arithmetic.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

const operations = (prompt: string): number => (prompt.match(/ [+-] /g) ?? []).length

describe("the prompt stage", () => {
  let worker: RunningWorker
  let env: Record<string, string>

  beforeAll(async () => {
    ;({ env, worker } = await startTestCluster("prompt-stage"))
  })
  afterAll(async () => {
    await worker?.shutdown()
  })

  it("writes new prompts every round with each operator, screens them, commits them as prompt-set versions, and samples them", async () => {
    const dir = tempDir("prompt-stage-spec")
    const seeds = generateArithmetic({ seed: 21, count: 4, difficulty: 1, langs: ["zh", "en"] })
    const held = generateArithmetic({ seed: 22, count: 3, difficulty: 1, langs: ["en"], exclude: new Set(seeds.map((p) => arithmeticKey(p.prompt)!)) })
    const write = (name: string, rows: typeof seeds) => {
      const path = join(dir, name)
      writeFileSync(path, rows.map((p) => JSON.stringify({ id: p.id, prompt: p.prompt, reference: p.reference })).join("\n") + "\n")
      return path
    }
    const spec = writeDemoSpec(dir, "stage", (s) => {
      s.prompts = write("seeds.jsonl", seeds)
      s.scorers = [{ name: "correct", type: "verifier", check: "answer_match", missing_reference: "pass" }]
      s.rounds = 2
      s.prompt_stage = {
        dataset: "stage-prompts",
        max_new_tokens: 24,
        operators: [
          { type: "arithmetic", count: 5, difficulty: 1 },
          { type: "self_instruct", count: 2, examples: 2 },
          { type: "evol_instruct", count: 2 },
          { type: "magpie", count: 3 }
        ]
      }
      s.curriculum = { raise_difficulty: { target: 0.9, floor: 0.5, start: 3 } }
      s.eval = { prompts: write("eval.jsonl", held), n: 1 }
      s.output = { dataset: "stage", dedup: { near: false } }
    })
    const run = await runCli(["run", spec, "--json"], env)
    expect(run.code, run.stderr).toBe(0)

    const versions = lastJson((await runCli(["prompts", "log", "stage-prompts", "--json"], env)).stdout)
    expect(versions.map((v: any) => v.sequence)).toEqual([1, 0])
    expect(versions[1].prompts.count).toBe(4 + versions[1].added)
    expect(versions[0].prompts.count).toBe(versions[1].prompts.count + versions[0].added)
    for (const version of versions) {
      const tallies = version.lineage.operators
      expect(Object.keys(tallies).sort()).toEqual(["0:arithmetic", "1:self_instruct", "2:evol_instruct", "3:magpie"])
      expect(tallies["0:arithmetic"]).toMatchObject({ candidates: 5, kept: 5 })
      expect(tallies["1:self_instruct"].requests).toBe(2)
      expect(tallies["2:evol_instruct"].requests).toBe(2)
      expect(tallies["3:magpie"].requests).toBe(3)
      for (const tally of Object.values(tallies) as Array<{ candidates: number; kept: number }>) expect(tally.kept).toBeLessThanOrEqual(tally.candidates)
    }
    expect(versions[1].lineage.operators["0:arithmetic"].difficulty).toBe(3)
    expect(versions[0].lineage.operators["0:arithmetic"].difficulty).toBe(2)

    const out = join(dir, "pulled.jsonl")
    expect((await runCli(["prompts", "pull", "stage-prompts", "--out", out], env)).code).toBe(0)
    const pulled = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(pulled).toHaveLength(versions[0].prompts.count)
    const arithmetic = pulled.filter((p) => p.id.startsWith("arith-") && !seeds.some((s) => s.id === p.id))
    expect(arithmetic.map((p) => operations(p.messages[0].content))).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 2, 2])
    const heldKeys = new Set(held.map((p) => arithmeticKey(p.prompt)))
    expect(pulled.filter((p) => heldKeys.has(arithmeticKey(p.messages[0].content)))).toEqual([])
    expect(new Set(pulled.map((p) => p.messages[0].content)).size).toBe(pulled.length)

    const raw = join(dir, "raw.jsonl")
    expect((await runCli(["dataset", "pull", "stage", "--schema", "raw", "--out", raw], env)).code).toBe(0)
    const sampled = new Set(readFileSync(raw, "utf8").trim().split("\n").map((line) => JSON.parse(line).prompt_id))
    expect(arithmetic.some((p) => sampled.has(p.id))).toBe(true)
  })
})
