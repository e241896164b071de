import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { runCli, startTestCluster, tempDir, writeDemoSpec, until } from "./support/harness.js"

const specWith = writeDemoSpec

describe("campaign commands against a cluster", () => {
  let worker: RunningWorker
  let env: Record<string, string>
  let dir: string

  beforeAll(async () => {
    dir = tempDir("cli-specs")
    ;({ env, worker } = await startTestCluster("cli"))
  })
  afterAll(async () => worker?.shutdown())

  it("starts a campaign, reports its status and lists it with dataset and status", async () => {
    const spec = specWith(dir, "listed", (s) => { s.name = "listed"; s.output.dataset = "listed"; s.rounds = 1 })
    const start = await runCli(["campaign", "start", spec, "--json"], env)
    expect(start.code, start.stderr).toBe(0)
    const { campaignId } = JSON.parse(start.stdout)
    expect(campaignId).toMatch(/^listed-/)
    const status = await until(async () => {
      const r = await runCli(["campaign", "status", campaignId, "--json"], env)
      const view = JSON.parse(r.stdout)
      return view.status === "COMPLETED" ? view : undefined
    })
    expect(status.result).toMatchObject({ campaignId, dataset: "listed", generated: 40, accepted: 10, rounds: 1 })
    const listed = await until(async () => {
      const rows = JSON.parse((await runCli(["campaign", "list", "--json"], env)).stdout) as Array<Record<string, string>>
      const row = rows.find((r) => r.campaignId === campaignId)
      return row?.status === "completed" ? row : undefined
    })
    expect(listed).toMatchObject({ dataset: "listed", name: "listed", temporalStatus: "COMPLETED" })
  }, 420_000)

  it("cancels a running campaign and marks it cancelled", async () => {
    const spec = specWith(dir, "long", (s) => { s.name = "long"; s.output.dataset = "long"; s.rounds = 200 })
    const start = await runCli(["campaign", "start", spec, "--json"], env)
    expect(start.code, start.stderr).toBe(0)
    const { campaignId } = JSON.parse(start.stdout)
    await until(async () => {
      const view = JSON.parse((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
      return view.generated > 0 ? view : undefined
    })
    const cancel = await runCli(["campaign", "cancel", campaignId, "--json"], env)
    expect(cancel.code, cancel.stderr).toBe(0)
    const row = await until(async () => {
      const rows = JSON.parse((await runCli(["campaign", "list", "--json"], env)).stdout) as Array<Record<string, string>>
      const found = rows.find((r) => r.campaignId === campaignId)
      return found?.status === "cancelled" ? found : undefined
    })
    expect(row.temporalStatus).toBe("CANCELLED")
  }, 420_000)

  it("answers usage errors with exit 2 and help, and --help with exit 0", async () => {
    const none = await runCli(["campaign", "status"], env)
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("Usage: winnow campaign status <campaign-id>")
    const unknown = await runCli(["frobnicate"], env)
    expect(unknown.code).toBe(2)
    const flag = await runCli(["dataset", "list", "--bogus"], env)
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("bogus")
    for (const args of [["--help"], ["run", "--help"], ["dataset", "pull", "--help"], ["campaign", "--help"]]) {
      const help = await runCli(args, env)
      expect(help.code, args.join(" ")).toBe(0)
      expect(help.stdout).toContain("Usage: winnow")
    }
  })

  it("reports unknown datasets and versions as bad input (exit 2)", async () => {
    const missing = await runCli(["dataset", "show", "nope@3"], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("nope")
    const traversal = await runCli(["dataset", "show", "../etc"], env)
    expect(traversal.code).toBe(2)
    expect(traversal.stderr).toContain("../etc")
  })
})
