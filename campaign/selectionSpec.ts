import { Effect, Schema } from "effect"
import type { InputIssue } from "../core/errors.js"
import { DEFAULTS, LIMITS } from "../core/defaults.js"
import { int } from "./specFields.js"


/** The selection policies a spec can name. */
export const SELECTION_POLICIES = ["best_of_n", "threshold", "preference_pairs"] as const

/**
 * How scored samples become records. `best_of_n`: the top k per prompt (default 1).
 * `threshold`: every sample whose combined score is at least `min_score` (at most k per prompt
 * if set). `preference_pairs`: DPO records, chosen = best, rejected = worst or a seeded draw
 * (`rejected: sampled`), at least `min_margin` below; k pairs per prompt (default 1).
 * `accept_until`: stop the campaign once its rounds have added this many records (after dedup).
 */
export const SelectionSpec = Schema.Struct({
  policy: Schema.Literals(SELECTION_POLICIES).pipe(Schema.withDecodingDefaultKey(Effect.succeed(DEFAULTS.selection.policy))),
  k: Schema.optionalKey(int(1, LIMITS.maxSamplesPerPrompt)),
  min_score: Schema.optionalKey(Schema.Finite),
  rejected: Schema.optionalKey(Schema.Literals(["worst", "sampled"])),
  min_margin: Schema.optionalKey(Schema.Finite.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))),
  accept_until: Schema.optionalKey(int(1, 1_000_000_000))
})
export type SelectionSpec = typeof SelectionSpec.Type

/** Checks across selection fields: threshold needs `min_score`; pair options only with pairs. */
export const selectionIssues = (selection: SelectionSpec): InputIssue[] => {
  const issues: InputIssue[] = []
  if (selection.policy === "threshold" && selection.min_score === undefined) {
    issues.push({ path: "selection.min_score", value: undefined, expected: "a number (policy threshold keeps samples scoring at least this)" })
  }
  if (selection.policy !== "preference_pairs") {
    for (const key of ["rejected", "min_margin"] as const) {
      if (selection[key] !== undefined) issues.push({ path: `selection.${key}`, value: selection[key], expected: `no ${key} unless policy is "preference_pairs"` })
    }
  }
  return issues
}
