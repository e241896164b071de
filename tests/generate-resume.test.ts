import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { clusterEnv, lastJson, pulledRecords, repoRoot, runCli, tempDir, uniqueQueue, writeDemoSpec } from "./support/harness.js"

/** A `winnow worker` process whose JSON log lines are kept, so a test can SIGKILL it and read what it did. */
const workerProcess = (env: Record<string, string>): { child: ChildProcess; lines: () => Array<Record<string, unknown>>; exited: Promise<void> } => {
  const child = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "worker", "--threads", "1"], {
    env: { ...process.env, ...env, WINNOW_LOG_LEVEL: "info", WINNOW_LOG_FORMAT: "json" }, stdio: ["ignore", "ignore", "pipe"]
  })
  let text = ""
  child.stderr!.on("data", (d: Buffer) => { text += d.toString() })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const lines = () => text.split("\n").flatMap((line) => { try { return [JSON.parse(line)] } catch { return [] } })
  return { child, lines, exited }
}

const checkpointsUnder = (dir: string): string[] => {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => /samples\.c\d+-\d+\.jsonl$/.test(name))
}

describe("a generate attempt after a dead worker resumes from the dead one's checkpoints", () => {
  it("keeps what the killed attempt sampled, samples only the rest, and commits the records an undisturbed run commits", async () => {
    const home = tempDir("resume")
    const dir = tempDir("resume-specs")
    const env = clusterEnv(uniqueQueue("resume"), home)
    const edit = (name: string) => (s: Record<string, any>) => {
      s.name = name; s.output.dataset = name; s.rounds = 1
      s.generator.n = 8
      s.sharding = { prompts_per_shard: 10, max_concurrent_shards: 1, checkpoint_prompts: 1 }
    }

    const first = workerProcess(env)
    const { campaignId } = lastJson((await runCli(["campaign", "start", writeDemoSpec(dir, "killed", edit("killed")), "--json"], env)).stdout)
    const round = join(home, "store", "work", campaignId, "r1")
    const deadline = Date.now() + 120_000
    while (checkpointsUnder(round).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    first.child.kill("SIGKILL")
    await first.exited
    const written = checkpointsUnder(round).length
    expect(written).toBeGreaterThan(0)
    expect(written).toBeLessThan(10)

    const second = workerProcess(env)
    try {
      const until = Date.now() + 180_000
      let status = ""
      while (status !== "COMPLETED" && Date.now() < until) {
        status = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout).status
        if (status !== "COMPLETED") await new Promise((r) => setTimeout(r, 500))
      }
      expect(status).toBe("COMPLETED")
      const resumed = second.lines().find((l) => l.msg === "generated, resuming a previous attempt's checkpoints")
      expect(resumed, "the second worker's log").toBeDefined()
      expect(resumed!.resumed).toBeGreaterThanOrEqual(written * 8)
      expect(resumed!.samples).toBe(80)

      const undisturbed = await runCli(["campaign", "start", writeDemoSpec(dir, "calm", edit("calm")), "--wait", "--json"], env)
      expect(undisturbed.code, undisturbed.stderr).toBe(0)
      const [killed, calm] = [await pulledRecords(env, "killed", dir), await pulledRecords(env, "calm", dir)]
      expect(killed).toHaveLength(10)
      expect(killed).toEqual(calm)
    } finally {
      second.child.kill("SIGTERM")
      await second.exited
    }
  }, 420_000)
})
