import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

/** The demo spec over a prompt file written with `bytes`; returns the spec path. */
const specWithPrompts = (name: string, bytes: Buffer | string): string => {
  const dir = tempDir(`inputs-${name}`)
  const prompts = join(dir, "prompts.jsonl")
  writeFileSync(prompts, bytes)
  return writeDemoSpec(dir, name, (s) => { s.prompts = prompts })
}

describe("prompt files are checked before anything starts", () => {
  const cases: Array<[string, Buffer | string, string[]]> = [
    ["not-utf8", Buffer.concat([Buffer.from('{"prompt":"hello"}\n{"prompt":"'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from('"}\n')]), ["line 2", "not UTF-8"]],
    ["surrogate", '{"prompt":"fine"}\n{"id":"s1","prompt":"broken \\ud800 text"}\n', ["line 2.prompt", "lone UTF-16 surrogate"]],
    ["blank", '{"prompt":"fine"}\n{"id":"b1","prompt":"   \\n\\t "}\n', ["line 2.prompt", "not only whitespace"]],
    ["too-long", `{"prompt":"fine"}\n{"id":"long-1","prompt":"${"长城很长。".repeat(400)}"}\n`, ["line 2 (prompt long-1)", "positions"]]
  ]
  for (const [name, bytes, expected] of cases) {
    it(`refuses ${name} prompts in spec validate and run with exit 2, naming the file and line`, async () => {
      const spec = specWithPrompts(name, bytes)
      for (const command of [["spec", "validate", spec], ["run", spec]]) {
        const run = await runCli(command, { WINNOW_HOME: tempDir("inputs-home") })
        expect(run.code, run.stderr).toBe(2)
        expect(run.stderr).toContain("prompts.jsonl")
        for (const text of expected) expect(run.stderr).toContain(text)
      }
    })
  }
})

describe("a campaign says when it produced nothing", () => {
  it("exits 3 naming the filter that removed every sample, and again when a rerun adds nothing new", async () => {
    const { env, worker } = await startTestCluster("outcome")
    try {
      const dir = tempDir("outcome")
      const strict = writeDemoSpec(dir, "strict", (s) => {
        s.rounds = 1
        s.output.dataset = "strict"
        s.scorers.push({ name: "essay", type: "heuristic", metric: "length_chars", filter: { min: 100000 } })
      })
      const empty = await runCli(["run", strict, "--json"], env)
      expect(empty.code).toBe(3)
      expect(JSON.parse(empty.stdout.trim().split("\n").at(-1)!)).toMatchObject({ outcome: "empty", kept: 0 })
      expect(empty.stderr).toContain("essay removed 40 of 40")

      const plain = writeDemoSpec(dir, "plain", (s) => { s.rounds = 1; s.output.dataset = "plain" })
      expect((await runCli(["run", plain], env)).code).toBe(0)
      const again = await runCli(["run", plain, "--json"], env)
      expect(again.code).toBe(3)
      expect(again.stderr).toContain("already in dataset plain")
    } finally {
      await worker.shutdown()
    }
  })
})
