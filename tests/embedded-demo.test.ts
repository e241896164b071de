import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { inject } from "vitest"
import { runCli, tempDir } from "./support/harness.js"

describe("winnow demo with no cluster configured", () => {
  it("starts its own dev server and worker, runs the demo and leaves a pullable version", async () => {
    const home = tempDir("embedded")
    const env = { TEMPORAL_ADDRESS: "", WINNOW_HOME: home, TEMPORAL_CLI_PATH: inject("temporalCliPath") }
    const run = await runCli(["demo", "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!)
    expect(summary).toMatchObject({ dataset: "demo-zh-en", rounds: 2, generated: 80, accepted: 20 })
    expect(summary.seconds).toBeGreaterThan(0)
    const out = join(home, "demo.jsonl")
    const pull = await runCli(["dataset", "pull", `demo-zh-en@${summary.version}`, "--out", out], env)
    expect(pull.code, pull.stderr).toBe(0)
    expect(readFileSync(out, "utf8").trim().split("\n").length).toBeGreaterThan(0)
    const db = readFileSync(join(home, "temporal", "dev.db"))
    expect(db.length).toBeGreaterThan(0)
  })
})
