import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, repoRoot, runCli, startTestCluster, tempDir, writeDemoSpec, until } from "./support/harness.js"

describe("the history of embedded runs stays readable afterwards", () => {
  const home = tempDir("history-home")
  const dir = tempDir("history-specs")
  const env = { TEMPORAL_ADDRESS: "", WINNOW_HOME: home, TEMPORAL_CLI_PATH: inject("temporalCliPath") }

  it("lists, shows and summarizes finished campaigns, and says why a failed one failed", async () => {
    const okSpec = writeDemoSpec(dir, "kept", (s) => { s.name = "kept"; s.output.dataset = "kept"; s.rounds = 2 })
    const ok = await runCli(["run", okSpec, "--json"], env)
    expect(ok.code, ok.stderr).toBe(0)
    const okId = lastJson(ok.stdout).campaignId as string
    const failSpec = writeDemoSpec(dir, "broken", (s) => {
      s.name = "broken"; s.output.dataset = "broken"; s.rounds = 2
      s.improve = { trainer: "command", command: "echo 'boom: no GPU here, not writing {out}' >&2; exit 3" }
    })
    const failed = await runCli(["run", failSpec], env)
    expect(failed.code).toBe(1)
    const failedId = /broken-\d{8}-\d{6}Z-[0-9a-f]{6}/.exec(failed.stderr)?.[0] ?? ""
    expect(existsSync(join(home, "temporal", "dev.db"))).toBe(true)
    expect(existsSync(join(home, "temporal", "dev.json"))).toBe(false)

    const list = await runCli(["campaign", "list", "--json"], env)
    expect(list.code, list.stderr).toBe(0)
    const rows = lastJson(list.stdout) as Array<{ campaignId: string; status: string }>
    expect(rows.find((r) => r.campaignId === okId)?.status).toBe("completed")
    const failedRow = rows.find((r) => r.campaignId.startsWith("broken-"))
    expect(failedRow?.status).toBe("failed")

    const status = lastJson((await runCli(["campaign", "status", okId, "--json"], env)).stdout)
    expect(status).toMatchObject({ status: "COMPLETED", source: "history", result: { campaignId: okId, rounds: 2 } })
    expect(status.versions).toHaveLength(2)
    expect(status.stats.map((s: { round: number }) => s.round)).toEqual([1, 2])

    const why = lastJson((await runCli(["campaign", "status", failedRow!.campaignId, "--json"], env)).stdout)
    expect(why.status).toBe("FAILED")
    expect(why.failure).toMatchObject({ activity: "improve", code: "WINNOW_TRAINER_FAILED", attempt: 1 })
    expect(why.failure.message).toContain("boom: no GPU here")
    expect(why.versions).toHaveLength(1)
    const human = await runCli(["campaign", "status", failedRow!.campaignId], env)
    expect(human.stdout).toMatch(/failure:\s+improve \(attempt 1\) in broken-.*\[WINNOW_TRAINER_FAILED\]/)
    if (failedId) expect(failedRow!.campaignId).toBe(failedId)

    const history = lastJson((await runCli(["campaign", "history", okId, "--json"], env)).stdout)
    expect(history.status).toBe("completed")
    expect(history.runs.map((r: { round: number; ended: string }) => [r.round, r.ended])).toEqual([[1, "continued"], [2, "completed"]])
    for (const run of history.runs) expect(run.shards.completed).toBe(run.shards.started)
    const byName = Object.fromEntries(history.activities.map((a: { activity: string }) => [a.activity, a]))
    expect(byName.commit).toMatchObject({ executions: 2, failed: 0 })
    expect(byName.generate.executions).toBe(history.runs.reduce((n: number, r: { shards: { started: number } }) => n + r.shards.started, 0))
    expect(byName.generate.attempts).toBeGreaterThanOrEqual(byName.generate.executions)
    expect(history.versions.map((v: { round: number }) => v.round)).toEqual([1, 2])
    expect(history.spent.samples).toBe(status.result.generated)
    const text = await runCli(["campaign", "history", okId], env)
    expect(text.stdout).toContain("rounds (one workflow run each)")
    expect(text.stdout).toMatch(/^generate\s+\S+\s+\d+/m)

    const missing = await runCli(["campaign", "history", "no-such-campaign"], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("campaign not found: no-such-campaign")
  }, 600_000)
})

describe("campaign watch and the status of a cancelled campaign", () => {
  let worker: RunningWorker
  let env: Record<string, string>

  beforeAll(async () => { ({ env, worker } = await startTestCluster("watch")) })
  afterAll(async () => worker?.shutdown())

  it("streams progress objects while it runs, ends with the campaign, and a cancelled campaign keeps its statistics", async () => {
    const spec = writeDemoSpec(tempDir("watch-specs"), "watched", (s) => { s.name = "watched"; s.output.dataset = "watched"; s.rounds = 200; s.budget = { samples: 100_000 } })
    const { campaignId } = lastJson((await runCli(["campaign", "start", spec, "--json"], env)).stdout)
    const watch = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "campaign", "watch", campaignId, "--json", "--interval", "0.5"], { env: { ...process.env, WINNOW_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    watch.stdout.on("data", (d) => (stdout += d))
    const exited = new Promise<number>((resolve) => watch.on("close", (code) => resolve(code ?? -1)))
    await until(async () => {
      const view = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
      return view.versions?.length >= 2 ? view : undefined
    })
    expect((await runCli(["campaign", "cancel", campaignId], env)).code).toBe(0)
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("still watching"), 120_000))])
    if (code === "still watching") watch.kill("SIGKILL")
    const after = code === "still watching" ? lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout) : undefined
    expect(code, `watch did not end 120 s after the cancel; status ${after?.status}, versions ${after?.versions?.length}; watch printed:\n${stdout.slice(-2000)}`).toBe(1)
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l))
    const frames = lines.filter((l) => l.progress)
    expect(frames.length).toBeGreaterThan(2)
    const generated = frames.map((f) => f.progress.generated)
    expect(generated).toEqual([...generated].sort((a, b) => a - b))
    expect(frames.some((f) => f.samplesPerSecond > 0)).toBe(true)
    expect(frames.at(-1).budgetLeft.samples).toBe(100_000 - frames.at(-1).progress.spent.samples)
    expect(lines.at(-1)).toMatchObject({ event: "ended", campaignId, status: "cancelled" })

    const status = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
    expect(status.status).toBe("CANCELLED")
    expect(status.versions.length).toBeGreaterThanOrEqual(2)
    expect(status.stats.length).toBeGreaterThanOrEqual(2)
    const history = lastJson((await runCli(["campaign", "history", campaignId, "--json"], env)).stdout)
    expect(history.status).toBe("cancelled")
    expect(history.stats.length).toBe(status.stats.length)
    expect(history.spent).toEqual(status.spent)
  }, 420_000)
})
