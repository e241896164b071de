import { describe, expect, it } from "vitest"
import type { CampaignProgress, PreparedCampaign } from "./contracts.js"
import { knownEval, specForEval, specForRound, startLoop, trainBaseOf } from "./loop.js"
import { outcomeOf } from "./outcome.js"
import { decodeSpec } from "./spec.js"
import { Result } from "effect"

const spec = Result.getOrThrow(decodeSpec({
  name: "s", prompts: "p.jsonl", generator: { model: "base", n: 8, temperature: 0.9, max_new_tokens: 64 },
  scorers: [{ name: "correct", type: "verifier", check: "answer_match" }],
  selection: { policy: "threshold", min_score: 0.1 },
  eval: { prompts: "e.jsonl", n: 4, temperature: 0 },
  output: { dataset: "d" }
}, "test"))

const prepared = { lineage: { generator: { model: "base", model_hash: "h0", sampling: {} } } } as unknown as PreparedCampaign

describe("the loop's pure steps", () => {
  it("starts from the spec's generator and runs each round with the current one and its threshold", () => {
    const loop = startLoop(prepared)
    expect(loop).toEqual({ generator: { path: "base", model_hash: "h0" }, evals: [], models: [] })
    expect(trainBaseOf(prepared)).toEqual(loop.generator)
    const round = specForRound(spec, { path: "/models/m1", model_hash: "h1" }, 0.5)
    expect(round.generator.model).toBe("/models/m1")
    expect(round.selection.min_score).toBe(0.5)
    expect(specForRound(spec, undefined).generator.model).toBe("base")
  })

  it("evaluates with the eval's samples, temperature and the generator under test", () => {
    const evaluated = specForEval(spec, { path: "/models/m2", model_hash: "h2" })
    expect(evaluated.generator).toMatchObject({ model: "/models/m2", n: 4, temperature: 0, max_new_tokens: 64 })
    const stats = { round: 0, model_hash: "h2", prompts: 1, samples: 4, pass_at_1: 0.5, pass_at_k: { "1": 0.5 }, mean_score: 0.5, scores: {} }
    expect(knownEval({ generator: { path: "x", model_hash: "h2" }, evals: [stats], models: [] }, { path: "y", model_hash: "h2" })).toBe(stats)
  })
})

describe("a GGUF generator variant in the spec", () => {
  const base = { name: "s", prompts: "p.jsonl", scorers: [{ name: "correct", type: "verifier", check: "answer_match" }], selection: { policy: "threshold", min_score: 0.1 }, output: { dataset: "d" } }

  it("takes gguf:<name> for the generator, refuses it with the bundled trainer (which exports ONNX), and refuses malformed names", () => {
    expect(Result.isSuccess(decodeSpec({ ...base, generator: { model: "m", variant: "gguf:q4_k_m" } }, "test"))).toBe(true)
    const trained = decodeSpec({ ...base, generator: { model: "m", variant: "gguf:q8_0" }, improve: { trainer: "bundled" } }, "test")
    expect(Result.isFailure(trained) && trained.failure.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: "generator.variant", value: "gguf:q8_0" })]))
    const commanded = decodeSpec({ ...base, generator: { model: "m", variant: "gguf:q8_0" }, improve: { trainer: "command", command: "train --out {out}" } }, "test")
    expect(Result.isSuccess(commanded)).toBe(true)
    const malformed = decodeSpec({ ...base, generator: { model: "m", variant: "gguf:" } }, "test")
    expect(Result.isFailure(malformed) && malformed.failure.issues[0]).toMatchObject({ path: "generator.variant", value: "gguf:" })
  })
})

describe("a campaign's outcome", () => {
  const progress = (over: Partial<CampaignProgress>): CampaignProgress => ({
    campaignId: "c", dataset: "d", status: "running", round: 1, rounds: 1, shardsDone: 1, shardsTotal: 1, prompts: 5, generated: 20, accepted: 0, versions: [], ...over
  })
  it("is ok once records were added, short below accept_until, empty otherwise with the reason", () => {
    expect(outcomeOf(progress({ accepted: 5, versions: [{ round: 1, version: "v", records: 5, added: 5 }] }), undefined)).toEqual({ outcome: "ok" })
    expect(outcomeOf(progress({ accepted: 5, versions: [{ round: 1, version: "v", records: 5, added: 5 }] }), 10)).toMatchObject({ outcome: "short", reason: expect.stringContaining("5 of the 10") })
    expect(outcomeOf(progress({ accepted: 5, versions: [{ round: 1, version: "v", records: 5, added: 0 }] }), undefined).reason).toContain("already in dataset d")
    const stats = { round: 1, samples: 20, failed: { correct: 20, length: 3 } } as never
    expect(outcomeOf(progress({ stats: [stats] }), undefined).reason).toBe("no sample was accepted out of 20: correct removed 20 of 20; length removed 3 of 20")
  })
})
