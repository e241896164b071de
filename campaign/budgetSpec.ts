import { Schema } from "effect"
import type { InputIssue } from "../core/errors.js"
import { NonNegative } from "./specFields.js"

/**
 * `budget`: hard limits on what a campaign may spend, over all its rounds, evaluations and
 * prompt stages: generated `samples`, generated `tokens`, wall-clock `seconds` since it started,
 * and `usd` on remote backends (with `generator.backend.price`). Work is reserved at its upper
 * bound before it starts, so a budget is never exceeded; when the next shard would not fit the
 * campaign stops launching work, commits what it has and says which budget stopped it. Each limit
 * can be changed while the campaign runs (`winnow campaign set <id> budget.tokens=…`).
 */
export const BudgetSpec = Schema.Struct({
  samples: Schema.optionalKey(NonNegative),
  tokens: Schema.optionalKey(NonNegative),
  seconds: Schema.optionalKey(NonNegative),
  usd: Schema.optionalKey(NonNegative)
})
/** `budget` as written. */
export type BudgetSpec = typeof BudgetSpec.Type

/** A money budget needs a price to count money by. */
export const budgetIssues = (spec: { readonly budget?: BudgetSpec; readonly generator: { readonly backend: { readonly type: string; readonly price?: unknown } } }): InputIssue[] =>
  spec.budget?.usd !== undefined && spec.generator.backend.price === undefined
    ? [{ path: "budget.usd", value: spec.budget.usd, expected: "a money budget only with generator.backend.price (what the server charges per million input and output tokens; local generation costs no money)" }]
    : []
