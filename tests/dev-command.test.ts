import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, inject, it } from "vitest"
import { freePort } from "../worker/devServer.js"
import { repoRoot, runCli, tempDir, writeDemoSpec } from "./support/harness.js"

describe("winnow dev", () => {
  it("serves Temporal with the Web UI and a worker, shows the embedded runs made before it, lets `winnow run` use it, and stops on SIGINT", async () => {
    const home = tempDir("dev")
    const [port, uiPort] = [await freePort(), await freePort()]
    const env = { ...process.env, WINNOW_HOME: home, TEMPORAL_ADDRESS: "", TEMPORAL_CLI_PATH: inject("temporalCliPath"), WINNOW_LOG_LEVEL: "warn" }
    const earlierSpec = writeDemoSpec(tempDir("dev-specs"), "earlier", (spec) => { spec.output.dataset = "earlier"; spec.rounds = 1 })
    const earlier = await runCli(["run", earlierSpec, "--json"], { WINNOW_HOME: home, TEMPORAL_ADDRESS: "", TEMPORAL_CLI_PATH: inject("temporalCliPath") })
    expect(earlier.code, earlier.stderr).toBe(0)
    const earlierId = JSON.parse(earlier.stdout.trim().split("\n").at(-1)!).campaignId as string
    const dev = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "dev", "--port", String(port), "--ui-port", String(uiPort)], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    dev.stdout.on("data", (d) => (stdout += d))
    dev.stderr.on("data", (d) => (stderr += d))
    const exited = new Promise<number>((resolve) => dev.on("close", (code) => resolve(code ?? -1)))
    try {
      const deadline = Date.now() + 120_000
      while (!stdout.includes("Press Ctrl+C") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
      expect(stdout, stderr).toContain(`Web UI:          http://127.0.0.1:${uiPort}`)
      expect(stdout).toContain(`Temporal server: 127.0.0.1:${port}`)
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`)
      expect(ui.status).toBe(200)
      const listed = await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId = '${earlierId}'`)}`)).json() as { executions?: Array<{ execution: { workflowId: string } }> }
      expect(listed.executions?.map((e) => e.execution.workflowId)).toContain(earlierId)
      expect(existsSync(join(home, "temporal", "dev.db"))).toBe(true)
      expect(existsSync(join(home, "temporal", "dev.json"))).toBe(true)

      const run = await runCli(["demo", "--json"], { WINNOW_HOME: home, TEMPORAL_ADDRESS: "" })
      expect(run.code, run.stderr).toBe(0)
      const list = await runCli(["campaign", "list", "--json"], { WINNOW_HOME: home, TEMPORAL_ADDRESS: "" })
      const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!)
      expect(JSON.parse(list.stdout).map((r: { campaignId: string }) => r.campaignId)).toContain(summary.campaignId)
    } finally {
      dev.kill("SIGINT")
    }
    expect(await exited).toBe(0)
    expect(existsSync(join(home, "temporal", "dev.json"))).toBe(false)
  })
})
