import { describe, expect, it } from "vitest"
import { isPromptOperatorName, PROMPT_OPERATOR_DEFAULTS, PROMPT_OPERATOR_NAMES, resolvePromptOperator, screeningOf } from "./operators.js"

describe("prompt operator registry", () => {
  it("names the four operators", () => {
    expect(PROMPT_OPERATOR_NAMES).toEqual(["self_instruct", "evol_instruct", "magpie", "arithmetic"])
    expect(isPromptOperatorName("magpie")).toBe(true)
    expect(isPromptOperatorName("evol")).toBe(false)
  })

  it("lays a spec's overrides over the defaults", () => {
    const op = resolvePromptOperator("arithmetic", { difficulty: 4, langs: ["zh"] })
    expect(op).toEqual({ name: "arithmetic", settings: { count: 64, difficulty: 4, langs: ["zh"] } })
    expect(resolvePromptOperator("evol_instruct").settings.operations).toContain("breadth")
    expect(PROMPT_OPERATOR_DEFAULTS.magpie.system).toBeUndefined()
  })

  it("maps screening settings to the screening options", () => {
    expect(screeningOf(resolvePromptOperator("self_instruct", { min_units: 5 }).settings)).toEqual({
      limits: { minUnits: 5, maxUnits: 400 },
      decontamination: { cjkN: 10, latinN: 8, threshold: 0.5 }
    })
  })
})
