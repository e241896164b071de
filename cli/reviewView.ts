import type { RoundReview } from "../campaign/review.js"
import type { ReviewState } from "../campaign/reviewPool.js"
import type { ReviewDecisionView } from "./historySummary.js"
import { printTable } from "./output.js"

const share = (x: number | null): string => (x === null ? "-" : `${(x * 100).toFixed(1)}%`)

/** One line saying where the current round's review stands (for `campaign status`). */
export const reviewLine = (state: ReviewState): string => {
  if (state.status === "idle") return `round ${state.round}: not waiting for reviewers yet`
  const counts = `${state.decided} of ${state.required} decisions needed (${state.sampled} sampled: ${state.accepted} accepted, ${state.rejected} rejected, ${state.edited} edited), ${state.claimed} held by reviewers`
  return state.status === "open"
    ? `round ${state.round} waits for reviewers: ${counts}; deadline ${state.deadline} (then ${state.on_deadline}); open the page with \`winnow review\``
    : `round ${state.round}'s review closed (${state.outcome === "reached" ? "enough decided" : "deadline passed"}): ${counts}`
}

/**
 * Prints each reviewed round: what reviewers decided and how far they agreed with the
 * discriminator (agreement, Cohen's kappa, share of kept records they kept).
 */
export const printReviews = (reviews: readonly RoundReview[], decisions?: readonly ReviewDecisionView[]): void => {
  process.stdout.write("\nreview (reviewers vs the discriminator):\n")
  printTable(reviews.map((r) => ({
    round: r.round, sampled: `${r.sampled} (${r.kept_sampled} kept)`, decided: r.decided, accepted: r.accepted, rejected: r.rejected, edited: r.edited, "left out": r.left_out,
    agreement: share(r.agreement), kappa: r.kappa === null ? "-" : r.kappa.toFixed(3), "kept accepted": share(r.kept_accepted),
    reviewers: r.reviewers.join(",") || "-", ended: r.outcome === "reached" ? "enough decided" : "deadline"
  })), ["round", "sampled", "decided", "accepted", "rejected", "edited", "left out", "agreement", "kappa", "kept accepted", "reviewers", "ended"])
  if (decisions && decisions.length > 0) {
    process.stdout.write("\nreview decisions:\n")
    printTable(decisions.map((d) => ({ at: d.at.replace("T", " ").slice(0, 19), round: d.round, reviewer: d.reviewer, action: d.action, record: `${d.item.slice(0, 16)}…` })), ["at", "round", "reviewer", "action", "record"])
  }
}
