import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

/** The demo spec, one round, with `output.dedup` set as given; returns its path. */
const demoWithDedup = (dir: string, name: string, dedup: Record<string, unknown> | undefined): string =>
  writeDemoSpec(dir, name, (spec) => {
    spec.rounds = 1
    spec.output = { dataset: name, ...(dedup ? { dedup } : {}) }
  })

describe("campaign output.dedup reaches the store", () => {
  let worker: RunningWorker
  let dir: string
  let env: Record<string, string>

  beforeAll(async () => {
    dir = tempDir("dedup-specs")
    ;({ env, worker } = await startTestCluster("dedup-campaign"))
  })
  afterAll(async () => worker?.shutdown())

  it("decontaminates against the spec's evaluation prompts and records the dedup it applied", async () => {
    writeFileSync(join(dir, "eval.jsonl"), [
      JSON.stringify({ prompt: "Introduce yourself, in one sentence!" }),
      JSON.stringify({ question: "小明有三个苹果，又买了两个。他现在有几个苹果？" })
    ].join("\n"))
    const spec = demoWithDedup(dir, "decontaminated", { decontaminate: "eval.jsonl", threshold: 0.7 })
    const run = await runCli(["run", spec, "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    const shown = await runCli(["dataset", "show", "decontaminated", "--json"], env)
    const manifest = JSON.parse(shown.stdout)
    expect(manifest.counts).toMatchObject({ staged: 10, contaminated_dropped: 2, records: 8 })
    expect(manifest.lineage.dedup.near).toMatchObject({ threshold: 0.7, scope: "response", ngram: 3, num_perm: 128 })
    expect(manifest.lineage.dedup.decontamination).toMatchObject({ file: join(dir, "eval.jsonl"), prompts: 2 })
    expect(manifest.lineage.round_stats).toEqual({ prompts: 10, generated: 40, accepted: 10 })
    const repo = join(dir, "card")
    expect((await runCli(["dataset", "pull", "decontaminated", "--format", "hf", "--out", repo], env)).code).toBe(0)
    expect(readFileSync(join(repo, "README.md"), "utf8")).toContain("| 25.0% (10/40) |")
  })

  it("rejects bad dedup settings before anything starts (exit 2, field named)", async () => {
    const bad = await runCli(["run", demoWithDedup(dir, "bad-threshold", { threshold: 2, scope: "documents" }), "--json"], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("output.dedup.threshold")
    expect(bad.stderr).toContain("output.dedup.scope")
    const missing = await runCli(["run", demoWithDedup(dir, "no-eval", { decontaminate: "nope.jsonl" }), "--json"], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("output.dedup.decontaminate")
    const list = await runCli(["dataset", "list", "--json"], env)
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).not.toContain("bad-threshold")
  })
})
