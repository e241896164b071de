import { ApplicationFailure, condition, defineQuery, defineUpdate, setHandler } from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import { type OpenReviewInput, requiredDecisions, type RoundReview } from "../campaign/review.js"
import { type ClaimAnswer, type ClaimRequest, type DecideAnswer, type DecideRequest, ReviewPool, type ReviewRefusal, type ReviewState } from "../campaign/reviewPool.js"
import type { ReviewSpec } from "../campaign/reviewSpec.js"
import { ERROR_POLICY } from "../core/errorPolicy.js"

/** Patch id of the review gate: with `review` in the spec, a round waits for reviewers between its statistics and its commit. */
export const REVIEW_PATCH = "winnow-review-gate"

/** A reviewer asks for a record to review (`winnow review` calls it); two reviewers never get the same one. */
export const reviewClaimUpdate = defineUpdate<ClaimAnswer, [ClaimRequest]>("reviewClaim")
/** A reviewer's accept / reject / edit / skip; refused with a clear message when the record is not pending. */
export const reviewDecideUpdate = defineUpdate<DecideAnswer, [DecideRequest]>("reviewDecide")
/** Where the current round's review stands. */
export const reviewQuery = defineQuery<ReviewState>("review")

const refused = (refusal: ReviewRefusal): ApplicationFailure =>
  ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true })

/**
 * The campaign's review gate for the round this run handles. Registers the claim and decide
 * updates and the review query at the start of every run (they refuse while no review is open);
 * `run` opens the round's sample, waits durably until enough is decided or the deadline passes,
 * and applies the decisions to the round's staging before the commit.
 */
export class ReviewGate {
  private pool: ReviewPool | undefined

  constructor(private readonly campaignId: string, private readonly round: number, private readonly onChange: (state: ReviewState) => void) {}

  /** Registers the updates and the query; call once at the start of each run. */
  register(): void {
    setHandler(reviewClaimUpdate, (request) => this.changed(this.pool!.claim(request, Date.now())), {
      validator: (request) => {
        const issue = this.pool ? this.pool.claimIssue(request) : this.idleIssue()
        if (issue) throw refused(issue)
      }
    })
    setHandler(reviewDecideUpdate, (request) => this.changed(this.pool!.decide(request, Date.now())), {
      validator: (request) => {
        const issue = this.pool ? this.pool.decideIssue(request, Date.now()) : this.idleIssue(request?.round)
        if (issue) throw refused(issue)
      }
    })
    setHandler(reviewQuery, () => this.state())
  }

  /** Where the review stands now. */
  state(): ReviewState {
    return this.pool?.state(Date.now()) ?? { round: this.round, status: "idle", sampled: 0, kept_sampled: 0, required: 0, decided: 0, accepted: 0, rejected: 0, edited: 0, claimed: 0 }
  }

  /**
   * Opens the round's review sample, waits until `required_share` of it is decided or the
   * deadline passes, then applies the decisions to the round's staging. Fails the campaign
   * (nothing of the round committed) when the deadline passes under `on_deadline: fail`.
   */
  async run(store: Pick<Activities, "openReview" | "applyReview">, spec: ReviewSpec, input: Omit<OpenReviewInput, "campaignId" | "round">): Promise<RoundReview> {
    const opened = await store.openReview({ ...input, campaignId: this.campaignId, round: this.round })
    const waitMs = spec.deadline_seconds * 1000
    this.pool = new ReviewPool(this.round, opened.items, {
      required: requiredDecisions(opened.items.length, spec.required_share),
      leaseMs: spec.lease_seconds * 1000,
      deadline: Date.now() + waitMs,
      onDeadline: spec.on_deadline
    })
    this.onChange(this.state())
    const reached = await condition(() => this.pool!.reached(), waitMs)
    const outcome = reached ? "reached" : "deadline"
    this.pool.close(outcome)
    this.onChange(this.state())
    if (!reached && spec.on_deadline === "fail") {
      const state = this.state()
      throw ApplicationFailure.create({
        type: ERROR_POLICY.ReviewDeadlinePassed.code,
        nonRetryable: true,
        message: `round ${this.round}'s review deadline (${spec.deadline_seconds} s) passed with ${state.decided} of ${state.sampled} sampled records decided, ${state.required} required; review.on_deadline is "fail", so the round was not committed`
      })
    }
    const summary = await store.applyReview({ campaignId: this.campaignId, round: this.round, items: opened.items, decisions: this.pool.decisions, outcome })
    return { round: this.round, ...summary }
  }

  private changed<A extends { readonly state: ReviewState }>(answer: A): A {
    this.onChange(answer.state)
    return answer
  }

  private idleIssue(round?: number): ReviewRefusal {
    if (round !== undefined && round < this.round) return { code: "REVIEW_STALE", message: `round ${round} was already committed; the campaign is on round ${this.round} now (reload the page)` }
    return { code: "REVIEW_NOT_OPEN", message: `campaign ${this.campaignId} has no review open: round ${this.round} is not waiting for reviewers${round === undefined ? "" : " (yet)"}` }
  }
}
