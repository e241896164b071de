import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parse, stringify } from "yaml"
import { httpModelHash } from "../models/openaiGenerator.js"
import type { RunningServe } from "../serve/server.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { lastJson, runCli, startRateLimiter, startTestCluster, startTinyChatServe, tempDir, writeDemoSpec } from "./support/harness.js"

/** The demo spec with its generator moved behind an OpenAI-compatible server. */
const httpSpec = (dir: string, name: string, baseUrl: string): string =>
  writeDemoSpec(dir, name, (spec) => {
    delete spec.generator.model
    spec.generator.backend = { type: "openai", base_url: baseUrl, model: "tiny-chat", concurrency: 4, timeout_ms: 60_000, max_retries: 2 }
    spec.rounds = 1
    spec.output.dataset = name
  })

describe("a campaign whose generator is an OpenAI-compatible server (winnow serve)", () => {
  let server: RunningServe
  let worker: RunningWorker
  let env: Record<string, string>

  beforeAll(async () => {
    server = await startTinyChatServe()
    ;({ env, worker } = await startTestCluster("openai-campaign"))
  })
  afterAll(async () => {
    await worker?.shutdown()
    await server?.close()
  })

  it("generates over HTTP, records the (base_url, model) hash in lineage, and repeats itself exactly", async () => {
    const dir = tempDir("openai-spec")
    const pulled: string[][] = []
    for (const name of ["http-a", "http-b"]) {
      const run = await runCli(["run", httpSpec(dir, name, server.url), "--json"], env)
      expect(run.code, run.stderr).toBe(0)
      expect(lastJson(run.stdout)).toMatchObject({ dataset: name, rounds: 1, generated: 40, accepted: 10 })
      const show = await runCli(["dataset", "show", name, "--json"], env)
      expect(show.code, show.stderr).toBe(0)
      const lineage = JSON.parse(show.stdout).lineage
      expect(lineage.generator.model).toBe("tiny-chat")
      expect(lineage.generator.model_hash).toBe(httpModelHash({ base_url: server.url, model: "tiny-chat" }))
      expect(lineage.generator.sampling.backend).toMatchObject({ type: "openai", base_url: server.url, model: "tiny-chat" })
      const out = join(dir, `${name}.jsonl`)
      expect((await runCli(["dataset", "pull", name, "--out", out], env)).code).toBe(0)
      const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
      for (const row of rows) {
        expect(row.messages.at(-1).role).toBe("assistant")
        expect(Object.keys(row.scores).sort()).toEqual(["quality", "reward"])
        // Provenance names the campaign and the served model's hash; the records themselves must repeat.
        expect(row.provenance).toMatchObject({ campaign: lastJson(run.stdout).campaignId, generator: lineage.generator.model_hash })
      }
      pulled.push(rows.map(({ provenance: _, ...row }) => JSON.stringify(row)).sort())
    }
    expect(pulled[0]!.length).toBe(10)
    expect(pulled[1]).toEqual(pulled[0])
  })

  it("waits what a 429's Retry-After asks before the activity's next attempt, then finishes the campaign", async () => {
    const limiter = await startRateLimiter(server.url, 1000, 4)
    try {
      const run = await runCli(["run", httpSpec(tempDir("openai-429"), "http-429", limiter.url), "--json"], env)
      expect(run.code, run.stderr).toBe(0)
      expect(lastJson(run.stdout)).toMatchObject({ dataset: "http-429", generated: 40, accepted: 10 })
      const limited = limiter.seen.filter((s) => s.limited)
      const later = limiter.seen.filter((s) => !s.limited)
      expect(limited.length).toBeGreaterThanOrEqual(1)
      expect(later.length).toBeGreaterThanOrEqual(10)
      expect(later[0]!.at - limited[0]!.at).toBeGreaterThanOrEqual(4000)
    } finally {
      await limiter.close()
    }
  })

  it("rejects a spec that names both a local model and the openai backend, before anything starts", async () => {
    const dir = tempDir("openai-bad")
    const path = httpSpec(dir, "http-bad", server.url)
    const spec = parse(readFileSync(path, "utf8"))
    spec.generator.model = "models/tiny-chat"
    spec.generator.backend.concurrency = 0
    writeFileSync(path, stringify(spec))
    const run = await runCli(["run", path], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("generator.model: got \"models/tiny-chat\", expected no local model with generator.backend.type \"openai\"")
  })
})
