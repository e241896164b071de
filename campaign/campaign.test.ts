import { readFileSync } from "node:fs"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { specJsonSchema } from "./jsonSchema.js"
import { parsePrompts, planShards } from "./prompts.js"
import { selectBestOfN } from "./selection.js"
import { decodeSpec } from "./spec.js"

const minimal = {
  name: "t",
  prompts: "p.jsonl",
  generator: { model: "m" },
  scorers: [{ name: "q", type: "heuristic" }],
  output: { dataset: "d" }
}

describe("campaign spec", () => {
  it("fills every default", () => {
    const spec = Result.getOrThrow(decodeSpec(minimal, "spec"))
    expect(spec.generator).toMatchObject({ n: 4, temperature: 0.8, top_p: 0.95, top_k: 50, max_new_tokens: 128, seed: 0 })
    expect(spec.selection).toEqual({ policy: "best_of_n" })
    expect(spec.rounds).toBe(1)
    expect(spec.sharding).toEqual({ prompts_per_shard: 8, max_concurrent_shards: 4 })
    expect(spec.scorers[0]).toMatchObject({ metric: "quality", weight: 1 })
  })

  it("names field, value and expectation for every problem", () => {
    const bad = { ...minimal, rounds: 1.5, generator: { model: "m", top_p: 2 }, output: { dataset: "../x" }, extra: true }
    const result = decodeSpec(bad, "spec.yaml")
    expect(Result.isFailure(result)).toBe(true)
    const issues = Result.isFailure(result) ? result.failure.issues : []
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]))
    expect(byPath["rounds"]).toMatchObject({ value: 1.5, expected: "an integer" })
    expect(byPath["generator.top_p"]).toMatchObject({ value: 2, expected: "a value between 0 and 1" })
    expect(byPath["output.dataset"]?.value).toBe("../x")
    expect(byPath["extra"]?.expected).toBe("no such field (unknown key)")
    expect(Result.isFailure(result) && result.failure.message).toContain('rounds: got 1.5, expected an integer')
  })

  it("takes extra outputs beside output and selection, each with its own selection and dedup, naming bad fields by index", () => {
    const spec = Result.getOrThrow(decodeSpec({ ...minimal, outputs: [{ dataset: "pairs", selection: { policy: "preference_pairs", rejected: "sampled" } }] }, "spec"))
    expect(spec.output.dataset).toBe("d")
    expect(spec.selection).toEqual({ policy: "best_of_n" })
    expect(spec.outputs).toEqual([{ dataset: "pairs", selection: { policy: "preference_pairs", rejected: "sampled" }, dedup: { near: true, threshold: 0.8, ngram: 3, num_perm: 128, scope: "response" } }])
    expect(Result.getOrThrow(decodeSpec(minimal, "spec")).outputs).toBeUndefined()
    const issuesOf = (outputs: unknown) => {
      const result = decodeSpec({ ...minimal, outputs }, "spec.yaml")
      return Result.isFailure(result) ? result.failure : undefined
    }
    const bad = issuesOf([{ dataset: "ok" }, { dataset: "../x", selection: { policy: "worst" }, keep_work: true }])
    expect(bad?.issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: "outputs[1].dataset", value: "../x" }),
      expect.objectContaining({ path: "outputs[1].selection.policy", value: "worst" }),
      expect.objectContaining({ path: "outputs[1].keep_work", expected: "no such field (unknown key)" })
    ]))
    expect(bad?.message).toContain('outputs[1].dataset: got "../x", expected')
    const clash = issuesOf([{ dataset: "e" }, { dataset: "d" }, { dataset: "e", selection: { policy: "threshold", rejected: "worst", accept_until: 5 } }])
    expect(clash?.issues.map((i) => i.path)).toEqual([
      "outputs[1].dataset", "outputs[2].dataset", "outputs[2].selection.min_score", "outputs[2].selection.rejected", "outputs[2].selection.accept_until"
    ])
    expect(clash?.message).toContain('outputs[1].dataset: got "d", expected a dataset no other output writes (output.dataset writes "d")')
    expect(clash?.issues[1]!.expected).toContain('(outputs[0].dataset writes "e")')
  })

  it("requires fields and checks scorer types before their fields", () => {
    const result = decodeSpec({ ...minimal, generator: {}, scorers: [{ name: "x", type: "oracle" }] }, "s")
    const issues = Result.isFailure(result) ? result.failure.issues : []
    expect(issues).toEqual([{ path: "scorers[0].type", value: "oracle", expected: 'one of "classifier", "heuristic", "lm_stats", "verifier", "judge"' }])
    const missing = decodeSpec({ ...minimal, generator: {} }, "s")
    expect(Result.isFailure(missing) && missing.failure.issues[0]).toMatchObject({ path: "generator.model", expected: "a value (this field is required)" })
  })

  it("refuses lm_stats from recorded statistics that an HTTP backend cannot record", () => {
    const http = (logprobs: boolean, metric: string) => ({
      ...minimal,
      generator: { backend: { type: "openai", base_url: "http://127.0.0.1:1/v1", model: "m", logprobs } },
      scorers: [{ name: "lm", type: "lm_stats", metric }]
    })
    const issuesOf = (input: unknown) => { const r = decodeSpec(input, "s"); return Result.isFailure(r) ? r.failure.issues : [] }
    expect(issuesOf(http(true, "nll"))).toEqual([])
    expect(issuesOf(http(false, "nll"))[0]).toMatchObject({ path: "scorers[0].model", expected: expect.stringContaining("logprobs is false") })
    expect(issuesOf(http(true, "entropy"))[0]).toMatchObject({ path: "scorers[0].model", expected: expect.stringContaining("per-token entropies") })
    expect(issuesOf({ ...http(false, "entropy"), scorers: [{ name: "lm", type: "lm_stats", metric: "entropy", model: "m" }] })).toEqual([])
  })

  it("checks ONNX variant names and where a variant may be given", () => {
    const issuesOf = (input: unknown) => { const r = decodeSpec(input, "s"); return Result.isFailure(r) ? r.failure.issues : [] }
    expect(issuesOf({ ...minimal, generator: { model: "m", variant: "q4f16" } })).toEqual([])
    expect(issuesOf({ ...minimal, generator: { model: "m", variant: "../q4" } })[0]).toMatchObject({
      path: "generator.variant", value: "../q4", expected: expect.stringContaining("the name of an ONNX variant")
    })
    expect(issuesOf({ ...minimal, generator: { variant: "fp16", backend: { type: "openai", base_url: "http://127.0.0.1:1/v1", model: "m" } } })[0])
      .toMatchObject({ path: "generator.variant", value: "fp16", expected: expect.stringContaining("no ONNX variant") })
    expect(issuesOf({ ...minimal, scorers: [{ name: "lm", type: "lm_stats", variant: "fp16" }] })[0])
      .toMatchObject({ path: "scorers[0].variant", value: "fp16", expected: expect.stringContaining("without a model") })
    expect(issuesOf({ ...minimal, scorers: [{ name: "r", type: "classifier", model: "r", variant: "quantized" }] })).toEqual([])
  })

  it("exports a JSON Schema for editors, with the validator's patterns and bounds, that matches the committed file", () => {
    const schema = specJsonSchema()
    expect(schema.required).toEqual(expect.arrayContaining(["name", "prompts", "generator", "scorers", "output"]))
    expect(schema.additionalProperties).toBe(false)
    const properties = schema.properties as Record<string, any>
    expect(properties.name.pattern).toBe("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    expect(properties.output.properties.dataset.pattern).toBe("^[a-z0-9][a-z0-9._-]{0,63}$")
    expect(properties.outputs.items.properties.dataset.pattern).toBe("^[a-z0-9][a-z0-9._-]{0,63}$")
    expect(properties.outputs.items.properties.selection.properties.policy.enum).toEqual(["best_of_n", "threshold", "preference_pairs"])
    expect(properties.generator.properties.n).toMatchObject({ minimum: 1, maximum: 256 })
    const committed = JSON.parse(readFileSync(new URL("./spec.schema.json", import.meta.url), "utf8"))
    expect(committed).toEqual(schema)
  })
})

describe("prompt files", () => {
  it("normalises prompt and messages lines with stable ids", () => {
    const text = ['{"prompt":"你好"}', '', '{"id":7,"messages":[{"role":"user","content":"hi"}],"reference":"5"}'].join("\n")
    const prompts = Result.getOrThrow(parsePrompts(text, "p"))
    expect(prompts[0]!.messages).toEqual([{ role: "user", content: "你好" }])
    expect(prompts[0]!.id).toMatch(/^p-[0-9a-f]{16}$/)
    expect(Result.getOrThrow(parsePrompts('{"prompt":"你好"}', "p"))[0]!.id).toBe(prompts[0]!.id)
    expect(prompts[1]).toEqual({ id: "7", messages: [{ role: "user", content: "hi" }], reference: "5" })
  })

  it("keeps a line's own fields and reads numeric references as their decimal text", () => {
    const text = '{"id":"q1","prompt":"计算 2 + 3 等于多少？","reference":5,"lang":"zh","difficulty":1,"source":{"set":"demo"}}'
    expect(Result.getOrThrow(parsePrompts(text, "p"))[0]).toEqual({
      id: "q1", messages: [{ role: "user", content: "计算 2 + 3 等于多少？" }], reference: "5",
      fields: { lang: "zh", difficulty: 1, source: { set: "demo" } }
    })
  })

  it("reads winnow's SFT and DPO exports back as the prompts they answered, keeping their other columns", () => {
    const sft = '{"messages":[{"role":"user","content":"你好"},{"role":"assistant","content":"你好！"}],"score":0.5,"id":"r1","prompt_id":"p1","round":1}'
    const dpo = '{"prompt":[{"role":"system","content":"简洁"},{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}],"prompt_id":"p2"}'
    const [first, second] = Result.getOrThrow(parsePrompts([sft, dpo].join("\n"), "p"))
    expect(first).toMatchObject({ id: "r1", messages: [{ role: "user", content: "你好" }], fields: { score: 0.5, prompt_id: "p1", round: 1 } })
    expect(second!.messages).toEqual([{ role: "system", content: "简洁" }, { role: "user", content: "hi" }])
    expect(second!.fields).toMatchObject({ prompt_id: "p2" })
  })

  it("reports bad lines by number and field", () => {
    const text = ['{"prompt":"a"}', "not json", '{"prompt":"b","messages":[{"role":"user","content":"b"}]}', '{"messages":[{"role":"bot","content":"x"}]}', '{"id":"x","prompt":"c"}', '{"id":"x","prompt":"d"}'].join("\n")
    const result = parsePrompts(text, "prompts.jsonl")
    const paths = Result.isFailure(result) ? result.failure.issues.map((i) => i.path) : []
    expect(paths).toEqual(["line 2", "line 3", "line 4.messages[0].role", "line 6.id"])
  })

  it("plans shards that cover every prompt once", () => {
    expect(planShards(10, 4)).toEqual([{ index: 0, start: 0, end: 4 }, { index: 1, start: 4, end: 8 }, { index: 2, start: 8, end: 10 }])
    expect(planShards(0, 4)).toEqual([])
  })
})

describe("best-of-N selection", () => {
  const c = (promptIndex: number, sampleIndex: number, score: number) => ({ promptIndex, sampleIndex, score })

  it("keeps the top k per prompt, breaking ties by sample index", () => {
    const picked = selectBestOfN([c(0, 0, 1), c(0, 1, 3), c(0, 2, 3), c(1, 0, 2), c(1, 1, 5)], { k: 1 })
    expect(picked).toEqual([c(0, 1, 3), c(1, 1, 5)])
  })

  it("handles k larger than N, N = 1, a minimum score and non-finite scores", () => {
    expect(selectBestOfN([c(0, 0, 1)], { k: 3 })).toEqual([c(0, 0, 1)])
    expect(selectBestOfN([c(0, 0, 1), c(0, 1, 2)], { k: 5, minScore: 1.5 })).toEqual([c(0, 1, 2)])
    expect(selectBestOfN([c(0, 0, Number.NaN), c(0, 1, 0)], { k: 2, minScore: 1 })).toEqual([])
  })
})
