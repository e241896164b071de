import { cpSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { GraphBuilder } from "./fixtures/onnx/graph.js"
import { repoRoot, runCli, tempDir, writeDemoSpec } from "./support/harness.js"

const tinyChat = join(repoRoot, "examples/models/tiny-chat")
const tinyReward = join(repoRoot, "examples/models/tiny-reward")
const KEY = "WINNOW_SPEC_CHECKS_KEY"

/** What `spec validate` answers, with neither the key variable nor a Temporal address set unless given. */
const validate = (spec: string, env: Record<string, string | undefined> = {}) =>
  runCli(["spec", "validate", spec], { [KEY]: undefined, TEMPORAL_ADDRESS: undefined, ...env })

/** The tiny chat model's directory with a graph that has no KV cache: input_ids and attention_mask in, logits out. */
const decoderWithoutCache = (dir: string): string => {
  const model = join(dir, "no-cache")
  cpSync(tinyChat, model, { recursive: true })
  const graph = new GraphBuilder("no-cache")
  const ids = graph.input("input_ids", "int64", ["batch_size", "sequence_length"])
  graph.input("attention_mask", "int64", ["batch_size", "sequence_length"])
  graph.op("Unsqueeze", [graph.cast(ids, "float32"), graph.int64s([2])], {}, "logits")
  graph.output("logits", "float32", ["batch_size", "sequence_length", 1])
  writeFileSync(join(model, "onnx", "model.onnx"), graph.toModel().model)
  return model
}

const openaiBackend = (extra: Record<string, unknown> = {}) => (spec: Record<string, any>) => {
  delete spec.generator.model
  spec.generator.backend = { type: "openai", base_url: "http://127.0.0.1:9/v1", model: "served", ...extra }
}

describe("spec validate checks what a run will check", () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir("spec-checks")
  })

  it("accepts the demo spec and local decoders as lm_stats and judge models", async () => {
    const spec = writeDemoSpec(dir, "good", (s) => {
      s.scorers.push({ name: "nll", type: "lm_stats", metric: "nll", model: tinyChat }, { name: "judge", type: "judge", model: tinyChat })
    })
    const run = await validate(spec)
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
  })

  it("refuses a generator model that is not a decoder with a KV cache, naming generator.model", async () => {
    for (const [name, model, said] of [["classifier-generator", tinyReward, "logits [batch, labels]"], ["no-cache", decoderWithoutCache(dir), "input_ids, attention_mask"]] as const) {
      const run = await validate(writeDemoSpec(dir, name, (s) => (s.generator.model = model)))
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("generator.model")
      expect(run.stderr).toContain("past_key_values")
      expect(run.stderr).toContain(said)
    }
  })

  it("refuses a model file that is not ONNX, naming the field", async () => {
    const model = join(dir, "garbage")
    cpSync(tinyReward, model, { recursive: true })
    const onnx = join(model, "onnx", "model.onnx")
    writeFileSync(onnx, readFileSync(onnx).subarray(0, 1000))
    const run = await validate(writeDemoSpec(dir, "garbage", (s) => (s.scorers[0].model = model)))
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("scorers[0].model")
    expect(run.stderr).toContain("whose ONNX file can be read")
  })

  it("refuses a classifier scorer whose model is not a sequence classifier, and a decoder scorer that is not a decoder, naming the scorer", async () => {
    const classifier = await validate(writeDemoSpec(dir, "decoder-as-classifier", (s) => (s.scorers[0].model = tinyChat)))
    expect(classifier.code).toBe(2)
    expect(classifier.stderr).toContain("scorers[0].model")
    expect(classifier.stderr).toContain("sequence classifier")
    const judge = await validate(writeDemoSpec(dir, "classifier-as-judge", (s) => s.scorers.push({ name: "judge", type: "judge", model: tinyReward })))
    expect(judge.code).toBe(2)
    expect(judge.stderr).toContain("scorers[2].model")
    expect(judge.stderr).toContain("past_key_values")
  })

  it("refuses an api_key_env that is not set, unless the workers are elsewhere (TEMPORAL_ADDRESS)", async () => {
    const spec = writeDemoSpec(dir, "api-key", openaiBackend({ api_key_env: KEY }))
    const unset = await validate(spec)
    expect(unset.code).toBe(2)
    expect(unset.stderr).toContain(`generator.backend.api_key_env: got "${KEY}"`)
    expect((await validate(spec, { [KEY]: "" })).code).toBe(2)
    const set = await validate(spec, { [KEY]: "sekrit" })
    expect([set.code, set.stderr]).toEqual([0, ""])
    const remote = await validate(spec, { TEMPORAL_ADDRESS: "127.0.0.1:1" })
    expect([remote.code, remote.stderr]).toEqual([0, ""])
  })

  it("refuses an lm_stats scorer without a model when the HTTP backend records no log-probabilities", async () => {
    const run = await validate(writeDemoSpec(dir, "no-logprobs", (s) => {
      openaiBackend({ logprobs: false })(s)
      s.scorers.push({ name: "nll", type: "lm_stats", metric: "nll" })
    }))
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("scorers[2].model")
    expect(run.stderr).toContain("logprobs is false")
    const entropy = await validate(writeDemoSpec(dir, "no-entropies", (s) => {
      openaiBackend()(s)
      s.scorers.push({ name: "entropy", type: "lm_stats", metric: "entropy" })
    }))
    expect(entropy.code).toBe(2)
    expect(entropy.stderr).toContain("scorers[2].model")
    const recorded = await validate(writeDemoSpec(dir, "logprobs", (s) => {
      openaiBackend()(s)
      s.scorers.push({ name: "nll", type: "lm_stats", metric: "nll" })
    }))
    expect([recorded.code, recorded.stderr]).toEqual([0, ""])
  })
})
