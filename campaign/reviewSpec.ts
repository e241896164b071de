import { Schema } from "effect"
import type { InputIssue } from "../core/errors.js"
import { DEFAULTS, LIMITS } from "../core/defaults.js"
import { int, withDefault } from "./specFields.js"

/** A share in (0, 1]: zero would let a round commit before anyone looked. */
const PositiveShare = Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)))

/**
 * `review`: the human review gate. After a round's selection and before its commit the round
 * waits, durably, for people to decide on a seeded sample of `sample` kept records (plus
 * `include_rejected` samples the discriminator did not keep, to measure agreement) in
 * `winnow review`. A rejected record is left out of the commit, an edited one is committed with
 * the reviewer's text; every decision is recorded in the record's provenance. The round commits
 * once `required_share` of the sample is decided, or when `deadline_seconds` pass: then
 * `on_deadline: commit` commits what it has (undecided records stay as selected) and `fail`
 * fails the campaign without committing the round. A claimed record returns to the pool when its
 * reviewer has not decided within `lease_seconds`.
 */
export const ReviewSpec = Schema.Struct({
  sample: int(1, LIMITS.maxReviewSample),
  include_rejected: int(0, LIMITS.maxReviewSample).pipe(withDefault(DEFAULTS.review.include_rejected)),
  deadline_seconds: int(1, 366 * 86_400).pipe(withDefault(DEFAULTS.review.deadline_seconds)),
  on_deadline: Schema.Literals(["commit", "fail"]).pipe(withDefault(DEFAULTS.review.on_deadline)),
  required_share: PositiveShare.pipe(withDefault(DEFAULTS.review.required_share)),
  lease_seconds: int(1, 86_400).pipe(withDefault(DEFAULTS.review.lease_seconds))
})
/** `review` with defaults filled in. */
export type ReviewSpec = typeof ReviewSpec.Type

/** The sample's ids travel in the workflow's history, so kept and rejected together stay within the limit. */
export const reviewIssues = (spec: { readonly review?: ReviewSpec }): InputIssue[] => {
  const review = spec.review
  if (review === undefined || review.sample + review.include_rejected <= LIMITS.maxReviewSample) return []
  return [{
    path: "review.include_rejected",
    value: review.include_rejected,
    expected: `at most ${LIMITS.maxReviewSample - review.sample} (review.sample + review.include_rejected may be at most ${LIMITS.maxReviewSample})`
  }]
}
