import type { PromptSet } from "./promptSets.js"
import type { CampaignSpec } from "./spec.js"

/**
 * The shapes of the human review gate (`review` in the spec): what crosses the workflow's history
 * (ids, verdicts, counts) and what the review file holds for the page (the texts). Pure; safe in
 * workflow code.
 */

/** What a reviewer decides about a record: keep it, leave it out, or keep it with new text. */
export const REVIEW_VERDICTS = ["accept", "reject", "edit"] as const
/** A decision that counts (see `REVIEW_VERDICTS`). */
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number]
/** What the page can send: a verdict, or `skip` (hand the record back to the pool for someone else). */
export type ReviewAction = ReviewVerdict | "skip"

/** One record of a round's review sample as the workflow knows it: its id and whether the discriminator kept it. */
export interface ReviewItemRef {
  readonly id: string
  readonly kept: boolean
}

/** One record of the review file: what the page shows beside the decision buttons. */
export interface ReviewItem extends ReviewItemRef {
  readonly kind: "sft" | "dpo"
  readonly prompt_id: string
  readonly shard: number
  /** The prompt conversation (system prompt and user turns), without the answer. */
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>
  /** The answer under review (a pair's chosen answer). */
  readonly response: string
  /** A pair's rejected answer. */
  readonly rejected_response?: string
  readonly score: number | null
  /** Every scorer's value (null where it gave none). */
  readonly scores: Readonly<Record<string, number | null>>
  /** Whether the sample passed every hard filter. */
  readonly passed: boolean
  readonly failed?: readonly string[]
  readonly finish?: string
  readonly tokens?: number
}

/** Input of the `openReview` activity: which round, the prompts its shards read, the shards that ran. */
export interface OpenReviewInput {
  readonly campaignId: string
  readonly round: number
  readonly spec: CampaignSpec
  readonly prompts: PromptSet
  readonly shards: readonly number[]
}

/** What `openReview` wrote: the review file and the sample in the order reviewers get it. */
export interface OpenedReview {
  readonly path: string
  readonly items: readonly ReviewItemRef[]
}

/** A decision the workflow accepted, as it travels to `applyReview` and into the record's provenance. */
export interface ReviewDecision {
  readonly decision_id: string
  readonly item: string
  readonly reviewer: string
  readonly verdict: ReviewVerdict
  /** Workflow time of the decision, ISO. */
  readonly at: string
  /** The new answer, with `edit`. */
  readonly text?: string
}

/** How a round's review ended: enough of the sample was decided, or the deadline passed first. */
export type ReviewOutcome = "reached" | "deadline"

/** Input of the `applyReview` activity: the round's sample and every accepted decision. */
export interface ApplyReviewInput {
  readonly campaignId: string
  readonly round: number
  readonly items: readonly ReviewItemRef[]
  readonly decisions: readonly ReviewDecision[]
  readonly outcome: ReviewOutcome
}

/**
 * What a round's review found, in the round's progress, its version's lineage and the report.
 * Agreement compares each decided record's verdict (accept or edit = keep) with the
 * discriminator's (kept or not): `agreement` is the share that match, `kappa` Cohen's kappa
 * (null unless both sides used both labels), `kept_accepted` the share of decided kept records
 * that reviewers kept.
 */
export interface ReviewSummary {
  readonly sampled: number
  readonly kept_sampled: number
  readonly decided: number
  readonly accepted: number
  readonly rejected: number
  readonly edited: number
  /** Kept records the reviewers rejected: left out of the commit. */
  readonly left_out: number
  readonly reviewers: readonly string[]
  readonly agreement: number | null
  readonly kappa: number | null
  readonly kept_accepted: number | null
  readonly outcome: ReviewOutcome
}

/** A round's review summary with the round it belongs to (progress and history). */
export interface RoundReview extends ReviewSummary {
  readonly round: number
}

/** Round a number to 6 decimals, so summaries print and compare cleanly. */
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/**
 * Cohen's kappa of two binary raters over `pairs` ([discriminator keeps, reviewer keeps]); null
 * when chance agreement is total (a rater used one label only) or there are no pairs.
 */
export const cohensKappa = (pairs: ReadonlyArray<readonly [boolean, boolean]>): number | null => {
  const n = pairs.length
  if (n === 0) return null
  const observed = pairs.filter(([a, b]) => a === b).length / n
  const a1 = pairs.filter(([a]) => a).length / n
  const b1 = pairs.filter(([, b]) => b).length / n
  const expected = a1 * b1 + (1 - a1) * (1 - b1)
  return expected >= 1 ? null : round6((observed - expected) / (1 - expected))
}

/** The summary of a round's review from its sample and decisions (see `ReviewSummary`). */
export const reviewSummaryOf = (items: readonly ReviewItemRef[], decisions: readonly ReviewDecision[], outcome: ReviewOutcome): ReviewSummary => {
  const keptOf = new Map(items.map((i) => [i.id, i.kept]))
  const decided = decisions.filter((d) => keptOf.has(d.item))
  const pairs = decided.map((d) => [keptOf.get(d.item)!, d.verdict !== "reject"] as const)
  const keptPairs = pairs.filter(([kept]) => kept)
  const count = (verdict: ReviewVerdict) => decided.filter((d) => d.verdict === verdict).length
  return {
    sampled: items.length,
    kept_sampled: items.filter((i) => i.kept).length,
    decided: decided.length,
    accepted: count("accept"),
    rejected: count("reject"),
    edited: count("edit"),
    left_out: decided.filter((d) => d.verdict === "reject" && keptOf.get(d.item)).length,
    reviewers: [...new Set(decided.map((d) => d.reviewer))].sort(),
    agreement: pairs.length === 0 ? null : round6(pairs.filter(([a, b]) => a === b).length / pairs.length),
    kappa: cohensKappa(pairs),
    kept_accepted: keptPairs.length === 0 ? null : round6(keptPairs.filter(([, b]) => b).length / keptPairs.length),
    outcome
  }
}

/** How many of `sampled` records must be decided before a round commits. */
export const requiredDecisions = (sampled: number, share: number): number => Math.max(0, Math.min(sampled, Math.ceil(sampled * share - 1e-9)))

/** What `review.meta` a committed record carries after a decision (its provenance). */
export const reviewMetaOf = (decision: ReviewDecision, original?: { readonly id: string; readonly text: string }): Record<string, unknown> => ({
  decision: decision.verdict,
  reviewer: decision.reviewer,
  at: decision.at,
  edited: decision.verdict === "edit",
  decision_id: decision.decision_id,
  ...(original ? { original_id: original.id, original_response: original.text } : {})
})
