import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { decoderFiles, TINY_CHAT_OPTIONS, writeModelDir } from "./fixtures/index.js"
import { lastJson, repoRoot, runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

const demoSpec = writeDemoSpec

describe("a campaign end to end on the real Temporal server", () => {
  let worker: RunningWorker
  let home: string
  let env: Record<string, string>

  beforeAll(async () => {
    ;({ home, env, worker } = await startTestCluster("e2e"))
  })
  afterAll(async () => worker?.shutdown())

  it("runs the demo, commits a version, and pulls JSONL whose rows match the manifest", async () => {
    const run = await runCli(["run", join(repoRoot, "examples/demo.yaml"), "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    const summary = lastJson(run.stdout)
    expect(Object.keys(summary).sort()).toEqual(["accepted", "campaignId", "dataset", "generated", "kept", "outcome", "rounds", "seconds", "version"])
    expect(summary).toMatchObject({ dataset: "demo-zh-en", rounds: 2, generated: 80, accepted: 20, outcome: "ok" })

    const show = await runCli(["dataset", "show", `demo-zh-en@${summary.version}`, "--json"], env)
    expect(show.code, show.stderr).toBe(0)
    const manifest = JSON.parse(show.stdout)
    expect(manifest.id).toBe(summary.version)
    expect(manifest.sequence).toBe(2)
    expect(manifest.lineage.campaign_id).toBe(summary.campaignId)
    expect(manifest.lineage.generator.model_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(manifest.lineage.generator.sampling).toMatchObject({ n: 4, seed: 20261127, max_new_tokens: 32 })
    expect(manifest.lineage.scorers.map((s: { name: string }) => s.name)).toEqual(["reward", "quality"])

    const out = join(home, "pulled.jsonl")
    const pull = await runCli(["dataset", "pull", "demo-zh-en", "--format", "jsonl", "--out", out, "--json"], env)
    expect(pull.code, pull.stderr).toBe(0)
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(rows).toHaveLength(manifest.counts.records)
    for (const row of rows) {
      expect(row.messages.at(-1).role).toBe("assistant")
      expect(row.messages.at(-2).role).toBe("user")
      expect(typeof row.score).toBe("number")
      expect(Object.keys(row.scores).sort()).toEqual(["quality", "reward"])
    }
    const prompts = new Set(rows.map((r) => r.prompt_id))
    expect(prompts.size).toBe(10)
    const again = demoSpec(home, "fed-back", (s) => { s.prompts = out })
    const fedBack = await runCli(["spec", "validate", again], env)
    expect(fedBack.code, fedBack.stderr).toBe(0)
    expect(existsSync(join(home, "store", "work", summary.campaignId))).toBe(false)
  })

  it("keeps every round's samples and scores with output.keep_work", async () => {
    const dir = tempDir("keep-work")
    const spec = demoSpec(dir, "kept-work", (s) => { s.output.dataset = "kept-work"; s.output.keep_work = true })
    const run = await runCli(["run", spec, "--json"], env)
    expect(run.code, run.stderr).toBe(0)
    const summary = lastJson(run.stdout)
    const work = join(home, "store", "work", summary.campaignId)
    expect(readdirSync(work).sort()).toEqual(["r1", "r2"])
    const samples = readdirSync(join(work, "r1")).flatMap((shard) => readFileSync(join(work, "r1", shard, "scored.jsonl"), "utf8").trim().split("\n"))
    expect(samples).toHaveLength(summary.generated / 2)
  })

  it("gives identical records when the same spec runs twice, whatever its generation checkpoint interval", async () => {
    const dir = tempDir("twice")
    const records: string[][] = []
    for (const name of ["twice-a", "twice-b"]) {
      const spec = demoSpec(dir, name, (s) => {
        s.output.dataset = name
        s.rounds = 1
        if (name === "twice-b") s.sharding = { ...s.sharding, checkpoint_prompts: 1 }
      })
      const run = await runCli(["run", spec, "--json"], env)
      expect(run.code, run.stderr).toBe(0)
      const out = join(dir, `${name}.jsonl`)
      expect((await runCli(["dataset", "pull", name, "--out", out], env)).code).toBe(0)
      // Each row's provenance names its own campaign and version; the records themselves must match.
      records.push(readFileSync(out, "utf8").trim().split("\n").map((line) => {
        const { provenance, ...row } = JSON.parse(line)
        expect(provenance).toMatchObject({ campaign: lastJson(run.stdout).campaignId, round: 1 })
        return JSON.stringify(row)
      }).sort())
    }
    expect(records[0]!.length).toBe(10)
    expect(records[1]).toEqual(records[0])
  })

  it("rejects a malformed spec with exit code 2, naming field, value and expectation, and commits nothing", async () => {
    const dir = tempDir("bad-spec")
    const spec = demoSpec(dir, "bad", (s) => { s.output.dataset = "bad-spec"; s.generator.n = 0; s.generator.temprature = 1; s.scorers[1].type = "vibes" })
    const run = await runCli(["run", spec], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("scorers[1].type: got \"vibes\", expected one of \"classifier\", \"heuristic\"")
    const json = await runCli(["run", spec, "--json"], env)
    expect(json.code).toBe(2)
    const { error } = JSON.parse(json.stderr.trim().split("\n").at(-1)!)
    expect(error).toMatchObject({ code: "WINNOW_INPUT_INVALID", exit: 2 })
    expect(error.issues).toContainEqual({ path: "scorers[1].type", value: "vibes", expected: expect.stringContaining("one of \"classifier\"") })
    const fixed = demoSpec(dir, "bad2", (s) => { s.output.dataset = "bad-spec"; s.generator.n = 0; s.generator.temprature = 1 })
    const run2 = await runCli(["run", fixed, "--json"], env)
    expect(run2.code).toBe(2)
    expect(run2.stderr).toContain("generator.n: got 0, expected a value between 1 and 256")
    expect(run2.stderr).toContain("generator.temprature: got 1, expected no such field (unknown key)")
    const list = await runCli(["dataset", "list", "--json"], env)
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).not.toContain("bad-spec")
  })

  it("loads the ONNX file generator.variant names, hashes it into lineage, and names the field when it is missing", async () => {
    const dir = tempDir("variant")
    const other = { ...TINY_CHAT_OPTIONS, seed: (TINY_CHAT_OPTIONS.seed ?? 0) + 1 }
    const otherDir = join(dir, "other-chat")
    writeModelDir(otherDir, decoderFiles(other))
    const twoFiles = join(dir, "two-files-chat")
    writeModelDir(twoFiles, { ...decoderFiles(TINY_CHAT_OPTIONS), "onnx/model_alt.onnx": decoderFiles(other)["onnx/model.onnx"]! })
    const pulled = async (name: string, generator: Record<string, unknown>) => {
      const spec = demoSpec(dir, name, (s) => { s.output.dataset = name; s.rounds = 1; Object.assign(s.generator, generator) })
      const run = await runCli(["run", spec, "--json"], env)
      expect(run.code, run.stderr).toBe(0)
      const out = join(dir, `${name}.jsonl`)
      expect((await runCli(["dataset", "pull", name, "--out", out], env)).code).toBe(0)
      const show = await runCli(["dataset", "show", name, "--json"], env)
      const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l))
      return { responses: rows.map((r) => `${r.prompt_id} ${r.messages.at(-1).content}`).sort(), hash: JSON.parse(show.stdout).lineage.generator.model_hash as string }
    }
    const viaVariant = await pulled("variant-alt", { model: twoFiles, variant: "alt" })
    const direct = await pulled("variant-direct", { model: otherDir })
    const byDefault = await pulled("variant-default", { model: twoFiles })
    expect(viaVariant.responses).toHaveLength(10)
    expect(viaVariant.responses).toEqual(direct.responses)
    expect(byDefault.responses).not.toEqual(viaVariant.responses)
    expect(viaVariant.hash).not.toBe(byDefault.hash)

    const missing = demoSpec(dir, "variant-missing", (s) => { s.output.dataset = "variant-missing"; s.generator.model = twoFiles; s.generator.variant = "q4" })
    const run = await runCli(["run", missing], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('generator.variant: got "q4", expected one of the ONNX variants in')
    expect(run.stderr).toContain('"alt"')
  })

  it("rejects a spec whose model directory is missing with exit code 2 and commits nothing", async () => {
    const dir = tempDir("no-model")
    const spec = demoSpec(dir, "nomodel", (s) => { s.output.dataset = "no-model"; s.generator.model = join(dir, "missing-model") })
    const run = await runCli(["run", spec], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("generator.model")
    expect(run.stderr).toContain(join(dir, "missing-model"))
    expect(run.stderr).toContain("expected an existing model directory")
    const list = await runCli(["dataset", "list", "--json"], env)
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).not.toContain("no-model")
  })
})
