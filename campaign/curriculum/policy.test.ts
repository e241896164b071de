import { describe, expect, it } from "vitest"
import { emptyCurriculum, updatePassRates } from "./passRates.js"
import { difficultyForRound, planNextRound, recordsLeft, thresholdForRound } from "./policy.js"

const r = (promptId: string, samples: number, passed: number, kept = 0) => ({ promptId, samples, passed, kept })
const prompts = [
  { id: "solved", reference: "14" },
  { id: "half", reference: "3" },
  { id: "failed", reference: "北京" },
  { id: "failed-open" },
  { id: "new", reference: "7" }
]
const state = updatePassRates(emptyCurriculum(), [r("solved", 4, 4, 1), r("half", 4, 2, 1), r("failed", 4, 0), r("failed-open", 4, 0)], 1)

describe("planNextRound", () => {
  it("samples every prompt and sets nothing when no policy is on", () => {
    expect(planNextRound(state, prompts, {}, 2)).toEqual({
      round: 2,
      sample: ["solved", "half", "failed", "failed-open", "new"],
      hinted: [],
      dropped: { capped: 0, solved: 0 },
      unhintable: 0
    })
    expect(planNextRound(state, prompts, { drop_solved: false }, 2).sample).toHaveLength(5)
  })

  it("works through a pool a fresh slice a round with prompts_per_round, least-sampled first, and comes round again", () => {
    const pool = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}` }))
    let s = emptyCurriculum()
    const taken: string[][] = []
    for (let round = 1; round <= 4; round++) {
      const plan = planNextRound(s, pool, { prompts_per_round: 2 }, round)
      taken.push(plan.sample)
      expect(plan.dropped).toEqual({ capped: 0, solved: 0, unscheduled: 3 })
      s = updatePassRates(s, plan.sample.map((id) => r(id, 4, 1)), round)
    }
    expect(taken).toEqual([["p0", "p1"], ["p2", "p3"], ["p0", "p4"], ["p1", "p2"]])
    const capped = updatePassRates(emptyCurriculum(), [r("p0", 4, 4, 2), r("p1", 4, 4, 2)], 1)
    const plan = planNextRound(capped, pool, { prompts_per_round: 2, max_records_per_prompt: 2 }, 2)
    expect(plan.sample).toEqual(["p2", "p3"])
    expect(plan.dropped).toEqual({ capped: 2, solved: 0, unscheduled: 1 })
    expect(planNextRound(capped, pool, { prompts_per_round: 10 }, 2).sample).toHaveLength(5)
  })

  it("drops prompts whose every sample passed in the last round they were sampled", () => {
    const plan = planNextRound(state, prompts, { drop_solved: true }, 2)
    expect(plan.sample).toEqual(["half", "failed", "failed-open", "new"])
    expect(plan.dropped).toEqual({ capped: 0, solved: 1 })
    const later = updatePassRates(state, [r("solved", 4, 3)], 2)
    expect(planNextRound(later, prompts, { drop_solved: true }, 3).sample).toContain("solved")
  })

  it("drops prompts at or above a pass rate over enough samples", () => {
    const more = updatePassRates(state, [r("half", 4, 3), r("solved", 4, 3)], 2)
    expect(planNextRound(more, prompts, { drop_solved: { pass_rate: 0.6, min_samples: 8 } }, 3).sample).toEqual(["failed", "failed-open", "new"])
    expect(planNextRound(more, prompts, { drop_solved: { pass_rate: 0.6, min_samples: 9 } }, 3).sample).toEqual(["solved", "half", "failed", "failed-open", "new"])
    expect(planNextRound(more, prompts, { drop_solved: { pass_rate: 0.9 } }, 3).dropped.solved).toBe(0)
  })

  it("hints prompts with no passing sample when they have a reference", () => {
    const plan = planNextRound(state, prompts, { hint_unsolved: true }, 2)
    expect(plan.hinted).toEqual(["failed"])
    expect(plan.sample).toContain("failed")
    expect(plan.unhintable).toBe(1)
    const hintedOnly = updatePassRates(state, [{ promptId: "failed", samples: 4, passed: 4, kept: 1, hinted: true }], 2)
    expect(planNextRound(hintedOnly, prompts, { hint_unsolved: true, drop_solved: true }, 3).hinted).toEqual(["failed"])
    const solvedNow = updatePassRates(state, [r("failed", 4, 1)], 2)
    expect(planNextRound(solvedNow, prompts, { hint_unsolved: true }, 3).hinted).toEqual([])
  })

  it("caps records per prompt over all rounds, counting a capped prompt once", () => {
    const plan = planNextRound(state, prompts, { max_records_per_prompt: 1, drop_solved: true }, 2)
    expect(plan.sample).toEqual(["failed", "failed-open", "new"])
    expect(plan.dropped).toEqual({ capped: 2, solved: 0 })
    expect(recordsLeft(state, "half", { max_records_per_prompt: 3 })).toBe(2)
    expect(recordsLeft(state, "new", { max_records_per_prompt: 3 })).toBe(3)
    expect(recordsLeft(state, "half", {})).toBeUndefined()
  })

  it("sets the round's threshold from a rising schedule", () => {
    const schedule = { start: 0.5, step: 0.1, max: 0.8 }
    expect([1, 2, 3, 4, 5].map((round) => Number(thresholdForRound(schedule, round).toFixed(6)))).toEqual([0.5, 0.6, 0.7, 0.8, 0.8])
    expect(planNextRound(state, prompts, { threshold_schedule: schedule }, 2).threshold).toBeCloseTo(0.6, 9)
  })

  it("rejects options out of range, naming the field", () => {
    expect(() => planNextRound(state, prompts, { max_records_per_prompt: 0 }, 2)).toThrow(/curriculum\.max_records_per_prompt/)
    expect(() => planNextRound(state, prompts, { drop_solved: { pass_rate: 1.5 } }, 2)).toThrow(/drop_solved\.pass_rate/)
    expect(() => planNextRound(state, prompts, { threshold_schedule: { start: 1, step: 0.1, max: 0.5 } }, 2)).toThrow(/threshold_schedule/)
    expect(() => planNextRound(state, prompts, { threshold_schedule: { start: 0, step: -0.1, max: 0.5 } }, 2)).toThrow(/step/)
    expect(() => planNextRound(state, prompts, { raise_difficulty: { target: 0.2, floor: 0.8 } }, 2)).toThrow(/floor below target/)
  })
})

describe("difficulty that follows the pass rate", () => {
  const raise = { target: 0.8, floor: 0.3, start: 2, min: 1, max: 4 }
  const rounds = (rates: number[]) =>
    rates.reduce((s, rate, i) => updatePassRates(s, [r("p", 10, Math.round(rate * 10))], i + 1), emptyCurriculum())

  it("goes up after an easy round and down after a hard one, within bounds", () => {
    const s = rounds([0.9, 0.9, 0.9, 0.5, 0.1, 0.0, 0.0, 0.0])
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((round) => difficultyForRound(s, raise, round))).toEqual([2, 3, 4, 4, 4, 3, 2, 1, 1])
    expect(planNextRound(s, [], { raise_difficulty: raise }, 3).difficulty).toBe(4)
  })

  it("stays put at the target exactly and after rounds without samples", () => {
    const s = updatePassRates(rounds([0.8]), [], 2)
    expect(difficultyForRound(s, raise, 3)).toBe(2)
    expect(difficultyForRound(emptyCurriculum(), { target: 0.8, floor: 0.2 }, 1)).toBe(1)
  })
})
