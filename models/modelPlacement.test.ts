import { readFileSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { modelCopyBytes, PlacementPlanner } from "./modelPlacement.js"

const GiB = 2 ** 30

describe("PlacementPlanner", () => {
  it("copies a model that fits onto every thread, one core each", () => {
    const planner = new PlacementPlanner(4, 4, 16 * GiB)
    expect(planner.place("small", () => GiB)).toEqual({ threads: [0, 1, 2, 3], intraOpThreads: 1, copyBytes: GiB })
  })

  it("gives a model as many copies as the budget holds, with the cores shared among them", () => {
    const planner = new PlacementPlanner(8, 8, 20 * GiB)
    expect(planner.place("big", () => 6 * GiB)).toEqual({ threads: [0, 1, 2], intraOpThreads: 2, copyBytes: 6 * GiB })
  })

  it("still places a model bigger than the whole budget, once, with every core", () => {
    const planner = new PlacementPlanner(4, 4, 8 * GiB)
    expect(planner.place("huge", () => 30 * GiB)).toEqual({ threads: [0], intraOpThreads: 4, copyBytes: 30 * GiB })
  })

  it("shares the budget between models, putting each on the threads that hold least", () => {
    const planner = new PlacementPlanner(4, 4, 12 * GiB)
    expect(planner.place("generator", () => 5 * GiB).threads).toEqual([0, 1])
    expect(planner.place("judge", () => GiB)).toMatchObject({ threads: [2, 3], intraOpThreads: 2 })
    expect(planner.place("reward", () => 0.5 * GiB)).toMatchObject({ threads: [2], intraOpThreads: 4 })
  })

  it("plans a model once and keeps the plan", () => {
    const planner = new PlacementPlanner(2, 2, 4 * GiB)
    let sized = 0
    const size = () => (sized++, 3 * GiB)
    const first = planner.place("m", size)
    expect(planner.place("m", size)).toBe(first)
    expect(sized).toBe(1)
    expect([...planner.placements().keys()]).toEqual(["m"])
  })

  it("puts a model whose files were not found on every thread (its loading reports the problem)", () => {
    const planner = new PlacementPlanner(3, 3, GiB)
    expect(planner.place("missing", () => 0)).toEqual({ threads: [0, 1, 2], intraOpThreads: 1, copyBytes: 0 })
  })
})

describe("modelCopyBytes", () => {
  const tinyChat = fileURLToPath(new URL("../examples/models/tiny-chat", import.meta.url))

  it("counts a copy as 1.5× its ONNX file, and a generator's copy also as 4× its largest batch's float32 KV cache", () => {
    const file = statSync(`${tinyChat}/onnx/model.onnx`).size
    const config = JSON.parse(readFileSync(`${tinyChat}/config.json`, "utf8"))
    const perToken = config.num_hidden_layers * 2 * (config.num_key_value_heads ?? config.num_attention_heads) * (config.head_dim ?? config.hidden_size / config.num_attention_heads) * 4
    expect(modelCopyBytes(tinyChat)).toBe(Math.round(file * 1.5))
    expect(modelCopyBytes(tinyChat, undefined, true)).toBe(Math.round(file * 1.5 + 4 * Math.min(64 * 1024 * perToken, 512 * 2 ** 20)))
  })

  it("is 0 for a directory without the ONNX file", () => {
    expect(modelCopyBytes(tinyChat, "no-such-variant")).toBe(0)
  })
})
