import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { cohensKappa, type ReviewItemRef, reviewSummaryOf, requiredDecisions } from "./review.js"
import { type DecideRequest, ReviewPool } from "./reviewPool.js"
import { decodeSpec } from "./spec.js"

const minimal = { name: "t", prompts: "p.jsonl", generator: { model: "m" }, scorers: [{ name: "q", type: "heuristic" }], output: { dataset: "d" } }

const issuesOf = (spec: unknown) => {
  const result = decodeSpec(spec, "spec.yaml")
  return Result.isFailure(result) ? result.failure.issues : []
}

describe("review spec", () => {
  it("fills the defaults of review and refuses bad fields, naming them", () => {
    const spec = Result.getOrThrow(decodeSpec({ ...minimal, review: { sample: 50 } }, "spec"))
    expect(spec.review).toEqual({ sample: 50, include_rejected: 0, deadline_seconds: 86_400, on_deadline: "commit", required_share: 1, lease_seconds: 600 })
    const byPath = Object.fromEntries(issuesOf({ ...minimal, review: { sample: 0, on_deadline: "wait", required_share: 0, deadline: "1h" } }).map((i) => [i.path, i]))
    expect(byPath["review.sample"]).toMatchObject({ value: 0 })
    expect(byPath["review.on_deadline"]).toMatchObject({ value: "wait", expected: expect.stringContaining('"commit"') })
    expect(byPath["review.required_share"]).toMatchObject({ value: 0 })
    expect(byPath["review.deadline"]?.expected).toBe("no such field (unknown key)")
    expect(issuesOf({ ...minimal, review: {} })[0]).toMatchObject({ path: "review.sample", expected: "a value (this field is required)" })
    expect(issuesOf({ ...minimal, review: { sample: 1500, include_rejected: 600 } })).toEqual([
      { path: "review.include_rejected", value: 600, expected: "at most 500 (review.sample + review.include_rejected may be at most 2000)" }
    ])
  })
})

const items: ReviewItemRef[] = [{ id: "a", kept: true }, { id: "b", kept: true }, { id: "c", kept: false }, { id: "d", kept: true }]
const pool = () => new ReviewPool(2, items, { required: 4, leaseMs: 1000, deadline: 100_000, onDeadline: "commit" })
const decide = (over: Partial<DecideRequest>): DecideRequest => ({ decision_id: `id-${over.item}-${over.action}`, round: 2, item: "a", reviewer: "alice", action: "accept", ...over })

describe("review pool", () => {
  it("never gives two reviewers the same record, renews a reviewer's own claim, and frees an expired one", () => {
    const p = pool()
    expect(p.claim({ reviewer: "alice" }, 0).item?.id).toBe("a")
    expect(p.claim({ reviewer: "bob" }, 10).item?.id).toBe("b")
    expect(p.claim({ reviewer: "alice" }, 20)).toMatchObject({ item: { id: "a" }, lease_until: new Date(1020).toISOString() })
    expect(p.claim({ reviewer: "carol" }, 30).item?.id).toBe("c")
    expect(p.claim({ reviewer: "dan" }, 40).item?.id).toBe("d")
    expect(p.claim({ reviewer: "erin" }, 50)).toMatchObject({ item: null, state: { claimed: 4 } })
    expect(p.claim({ reviewer: "erin" }, 1021).item?.id).toBe("a")
    expect(p.decideIssue(decide({ item: "a", reviewer: "alice" }), 1022)).toMatchObject({ code: "REVIEW_CLAIMED", message: expect.stringContaining("being reviewed by erin") })
  })

  it("applies each decision once, refuses records that are not pending, and summarizes agreement", () => {
    const p = pool()
    const first = decide({ item: "a" })
    expect(p.decideIssue(first, 0)).toBeUndefined()
    expect(p.decide(first, 0)).toMatchObject({ repeated: false, state: { decided: 1, accepted: 1 } })
    expect(p.decideIssue(first, 5)).toBeUndefined()
    expect(p.decide(first, 5)).toMatchObject({ repeated: true, state: { decided: 1 } })
    expect(p.decideIssue(decide({ item: "a", decision_id: "other", action: "reject" }), 6)).toMatchObject({ code: "REVIEW_NOT_PENDING", message: expect.stringContaining('alice already decided "accept"') })
    expect(p.decideIssue(decide({ item: "zz" }), 6)?.code).toBe("REVIEW_NOT_IN_SAMPLE")
    expect(p.decideIssue(decide({ item: "b", round: 1 }), 6)).toMatchObject({ code: "REVIEW_STALE", message: expect.stringContaining("round 1 was already committed") })
    expect(p.decideIssue(decide({ item: "b", action: "edit" }), 6)).toMatchObject({ code: "REVIEW_BAD_REQUEST", message: expect.stringContaining("an edit needs the new answer") })
    expect(p.decideIssue(decide({ item: "c", action: "edit", text: "x" }), 6)).toMatchObject({ code: "REVIEW_BAD_REQUEST", message: expect.stringContaining("not kept by the discriminator") })
    expect(p.decideIssue(decide({ item: "b", action: "maybe" as never }), 6)?.message).toContain("expected one of accept, reject, edit, skip")
    expect(p.decideIssue(decide({ item: "b", reviewer: " " }), 6)?.message).toContain("reviewer")

    p.decide(decide({ item: "b", action: "skip", reviewer: "bob" }), 7)
    expect(p.claim({ reviewer: "bob" }, 8).item?.id).toBe("c")
    p.decide(decide({ item: "c", action: "reject", reviewer: "bob" }), 9)
    expect(p.claim({ reviewer: "bob" }, 10).item?.id).toBe("d")
    p.decide(decide({ item: "d", action: "reject", reviewer: "bob" }), 11)
    expect(p.claim({ reviewer: "bob" }, 12).item?.id).toBe("b")
    expect(p.reached()).toBe(false)
    p.decide(decide({ item: "b", action: "edit", text: "better", reviewer: "bob" }), 13)
    expect(p.reached()).toBe(true)
    p.close("reached")
    expect(p.decideIssue(decide({ item: "b", decision_id: "late" }), 14)?.code).toBe("REVIEW_CLOSED")
    expect(p.claimIssue({ reviewer: "bob" })?.code).toBe("REVIEW_CLOSED")

    const summary = reviewSummaryOf(items, p.decisions, "reached")
    expect(summary).toMatchObject({ sampled: 4, kept_sampled: 3, decided: 4, accepted: 1, rejected: 2, edited: 1, left_out: 1, reviewers: ["alice", "bob"], outcome: "reached" })
    expect(summary.agreement).toBe(0.75)
    expect(summary.kept_accepted).toBeCloseTo(2 / 3, 6)
    expect(p.decisions.find((d) => d.item === "b")).toMatchObject({ verdict: "edit", text: "better", reviewer: "bob" })
  })

  it("computes Cohen's kappa and the decisions a share requires", () => {
    expect(cohensKappa([[true, true], [false, false], [true, false], [false, false]])).toBe(0.5)
    expect(cohensKappa([[true, true], [true, true]])).toBeNull()
    expect(cohensKappa([])).toBeNull()
    expect(requiredDecisions(50, 1)).toBe(50)
    expect(requiredDecisions(50, 0.5)).toBe(25)
    expect(requiredDecisions(3, 0.34)).toBe(2)
    expect(requiredDecisions(0, 1)).toBe(0)
  })
})
