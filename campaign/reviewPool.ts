import { LIMITS } from "../core/defaults.js"
import { type ReviewAction, type ReviewDecision, type ReviewItemRef, type ReviewOutcome, REVIEW_VERDICTS, type ReviewVerdict } from "./review.js"

/** A reviewer asks for the next record (the one they hold, with a fresh lease, if they hold one). */
export interface ClaimRequest {
  readonly reviewer: string
}

/** A reviewer's decision about one record of one round; `decision_id` makes a resent decision a no-op. */
export interface DecideRequest {
  readonly decision_id: string
  readonly round: number
  readonly item: string
  readonly reviewer: string
  readonly action: ReviewAction
  readonly text?: string
}

/** Where a round's review stands: counts, live claims, deadline (what `campaign status` and the page show). */
export interface ReviewState {
  readonly round: number
  /** `idle`: no review in this round (yet); `open`: reviewers can decide; `closed`: the round is committing or committed. */
  readonly status: "idle" | "open" | "closed"
  readonly sampled: number
  readonly kept_sampled: number
  readonly required: number
  readonly decided: number
  readonly accepted: number
  readonly rejected: number
  readonly edited: number
  /** Records held by a reviewer whose lease has not run out. */
  readonly claimed: number
  readonly deadline?: string
  readonly on_deadline?: "commit" | "fail"
  readonly outcome?: ReviewOutcome
}

/** The answer to a claim: the record to review (null when every undecided one is held by someone else) and until when it is held. */
export interface ClaimAnswer {
  readonly round: number
  readonly item: ReviewItemRef | null
  readonly lease_until: string | null
  readonly state: ReviewState
}

/** The answer to a decision; `repeated` when this decision id was already applied (nothing changed again). */
export interface DecideAnswer {
  readonly decision_id: string
  readonly item: string
  readonly action: ReviewAction
  readonly repeated: boolean
  readonly state: ReviewState
}

/** Why a claim or decision is refused: a stable code the page translates, and the message. */
export interface ReviewRefusal {
  readonly code: "REVIEW_NOT_OPEN" | "REVIEW_STALE" | "REVIEW_CLOSED" | "REVIEW_NOT_IN_SAMPLE" | "REVIEW_NOT_PENDING" | "REVIEW_CLAIMED" | "REVIEW_BAD_REQUEST"
  readonly message: string
}

/** How a round's review runs: decisions needed, how long a claim holds, the deadline (epoch ms). */
export interface PoolSettings {
  readonly required: number
  readonly leaseMs: number
  readonly deadline: number
  readonly onDeadline: "commit" | "fail"
}

const ACTIONS: readonly string[] = [...REVIEW_VERDICTS, "skip"]
const DECISION_ID = /^[A-Za-z0-9._:-]{1,128}$/u

const refuse = (code: ReviewRefusal["code"], message: string): ReviewRefusal => ({ code, message })

/** The shape of a reviewer name: 1 to 64 characters after trimming, no control characters. */
export const reviewerIssue = (reviewer: unknown): ReviewRefusal | undefined =>
  typeof reviewer === "string" && reviewer.trim().length > 0 && reviewer.length <= 64 && !/\p{Cc}/u.test(reviewer)
    ? undefined
    : refuse("REVIEW_BAD_REQUEST", `reviewer: got ${JSON.stringify(reviewer)}, expected a name of 1 to 64 characters`)

/** Shape checks of a decision that need no state: ids, action, the edit's text. */
export const decideRequestIssue = (request: DecideRequest | undefined): ReviewRefusal | undefined => {
  const r = (request ?? {}) as Partial<DecideRequest>
  if (typeof r.decision_id !== "string" || !DECISION_ID.test(r.decision_id)) return refuse("REVIEW_BAD_REQUEST", `decision_id: got ${JSON.stringify(r.decision_id)}, expected 1 to 128 letters, digits or ._:-`)
  if (!Number.isInteger(r.round) || r.round! < 1) return refuse("REVIEW_BAD_REQUEST", `round: got ${JSON.stringify(r.round)}, expected a round number`)
  if (typeof r.item !== "string" || r.item.length === 0) return refuse("REVIEW_BAD_REQUEST", `item: got ${JSON.stringify(r.item)}, expected a record id`)
  const who = reviewerIssue(r.reviewer)
  if (who) return who
  if (!ACTIONS.includes(r.action as string)) return refuse("REVIEW_BAD_REQUEST", `action: got ${JSON.stringify(r.action)}, expected one of ${ACTIONS.join(", ")}`)
  if (r.action === "edit") {
    if (typeof r.text !== "string" || r.text.trim().length === 0) return refuse("REVIEW_BAD_REQUEST", "text: an edit needs the new answer (got none)")
    if (r.text.length > LIMITS.maxReviewEditChars) return refuse("REVIEW_BAD_REQUEST", `text: got ${r.text.length} characters, expected at most ${LIMITS.maxReviewEditChars}`)
  } else if (r.text !== undefined) {
    return refuse("REVIEW_BAD_REQUEST", `text: only an edit carries text (action is ${r.action})`)
  }
  return undefined
}

/**
 * One round's review sample and what reviewers did with it: claims with leases (so two reviewers
 * never get the same record, and a record whose reviewer went away returns to the pool), skips,
 * and decisions, each applied once by its id. Times are epoch ms from the caller (workflow time).
 * Ask `claimIssue`/`decideIssue` first (an update's validator), then `claim`/`decide`.
 */
export class ReviewPool {
  private readonly index: Map<string, ReviewItemRef>
  private readonly verdicts = new Map<string, ReviewDecision>()
  private readonly answers = new Map<string, { item: string; action: ReviewAction }>()
  private readonly claims = new Map<string, { reviewer: string; until: number }>()
  private readonly skipped = new Map<string, string[]>()
  private editChars = 0
  private outcome: ReviewOutcome | undefined

  constructor(readonly round: number, readonly items: readonly ReviewItemRef[], private readonly settings: PoolSettings) {
    this.index = new Map(items.map((i) => [i.id, i]))
  }

  /** Every accepted decision, in the order it was made. */
  get decisions(): ReviewDecision[] {
    return [...this.verdicts.values()]
  }

  /** True once enough of the sample is decided for the round to commit. */
  reached(): boolean {
    return this.verdicts.size >= this.settings.required
  }

  /** Closes the pool: later claims and decisions are refused as closed. */
  close(outcome: ReviewOutcome): void {
    this.outcome = outcome
  }

  /** Why this claim cannot be served, if it cannot. */
  claimIssue(request: ClaimRequest | undefined): ReviewRefusal | undefined {
    return reviewerIssue(request?.reviewer) ?? this.closedIssue()
  }

  /** Hands `reviewer` the record they hold (lease renewed) or the next free one; null when none is free. */
  claim(request: ClaimRequest, now: number): ClaimAnswer {
    const reviewer = request.reviewer.trim()
    const held = [...this.claims].find(([id, c]) => c.reviewer === reviewer && c.until > now && !this.verdicts.has(id))?.[0]
    const free = (id: string) => !this.verdicts.has(id) && !this.heldByOther(id, reviewer, now)
    const mine = this.skipped.get(reviewer) ?? []
    const next = held ?? this.items.find((i) => free(i.id) && !mine.includes(i.id))?.id ?? mine.find(free)
    for (const [id, c] of this.claims) if (c.reviewer === reviewer) this.claims.delete(id)
    if (next === undefined) return { round: this.round, item: null, lease_until: null, state: this.state(now) }
    const until = now + this.settings.leaseMs
    this.claims.set(next, { reviewer, until })
    return { round: this.round, item: this.index.get(next)!, lease_until: new Date(until).toISOString(), state: this.state(now) }
  }

  /** Why this decision cannot be applied, if it cannot (a repeated decision id always can: it answers again). */
  decideIssue(request: DecideRequest | undefined, now: number): ReviewRefusal | undefined {
    const shape = decideRequestIssue(request)
    if (shape) return shape
    const r = request!
    if (this.answers.has(r.decision_id)) return undefined
    if (r.round < this.round) return refuse("REVIEW_STALE", `round ${r.round} was already committed; the campaign is on round ${this.round} now (reload the page)`)
    if (r.round > this.round) return refuse("REVIEW_STALE", `round ${r.round} has not started; the campaign is on round ${this.round}`)
    const closed = this.closedIssue()
    if (closed) return closed
    const item = this.index.get(r.item)
    if (item === undefined) return refuse("REVIEW_NOT_IN_SAMPLE", `record ${r.item} is not in round ${this.round}'s review sample`)
    if (r.action === "edit" && !item.kept) {
      return refuse("REVIEW_BAD_REQUEST", `record ${r.item} was not kept by the discriminator: it is in the sample to measure agreement and never enters the dataset, so it cannot be edited (accept or reject it)`)
    }
    const decided = this.verdicts.get(r.item)
    if (decided) return refuse("REVIEW_NOT_PENDING", `record ${r.item} is not pending: ${decided.reviewer} already decided "${decided.verdict}" at ${decided.at}`)
    const holder = this.claims.get(r.item)
    if (holder && holder.reviewer !== r.reviewer.trim() && holder.until > now) {
      return refuse("REVIEW_CLAIMED", `record ${r.item} is being reviewed by ${holder.reviewer} until ${new Date(holder.until).toISOString()}`)
    }
    if (r.action === "edit" && this.editChars + r.text!.length > LIMITS.maxReviewEditCharsPerRound) {
      return refuse("REVIEW_BAD_REQUEST", `text: this round's edits would pass ${LIMITS.maxReviewEditCharsPerRound} characters; accept or reject the rest`)
    }
    return undefined
  }

  /** Applies a decision that `decideIssue` let through; a repeated decision id changes nothing and says so. */
  decide(request: DecideRequest, now: number): DecideAnswer {
    const seen = this.answers.get(request.decision_id)
    if (seen) return { decision_id: request.decision_id, ...seen, repeated: true, state: this.state(now) }
    const reviewer = request.reviewer.trim()
    this.claims.delete(request.item)
    if (request.action === "skip") {
      this.skipped.set(reviewer, [...(this.skipped.get(reviewer) ?? []).filter((id) => id !== request.item), request.item])
    } else {
      const verdict: ReviewVerdict = request.action
      this.verdicts.set(request.item, {
        decision_id: request.decision_id, item: request.item, reviewer, verdict, at: new Date(now).toISOString(),
        ...(verdict === "edit" ? { text: request.text! } : {})
      })
      if (verdict === "edit") this.editChars += request.text!.length
    }
    this.answers.set(request.decision_id, { item: request.item, action: request.action })
    return { decision_id: request.decision_id, item: request.item, action: request.action, repeated: false, state: this.state(now) }
  }

  /** Counts, live claims, deadline and outcome. */
  state(now: number): ReviewState {
    const count = (verdict: ReviewVerdict) => [...this.verdicts.values()].filter((d) => d.verdict === verdict).length
    return {
      round: this.round,
      status: this.outcome ? "closed" : "open",
      sampled: this.items.length,
      kept_sampled: this.items.filter((i) => i.kept).length,
      required: this.settings.required,
      decided: this.verdicts.size,
      accepted: count("accept"),
      rejected: count("reject"),
      edited: count("edit"),
      claimed: [...this.claims].filter(([id, c]) => c.until > now && !this.verdicts.has(id)).length,
      deadline: new Date(this.settings.deadline).toISOString(),
      on_deadline: this.settings.onDeadline,
      ...(this.outcome ? { outcome: this.outcome } : {})
    }
  }

  private heldByOther(id: string, reviewer: string, now: number): boolean {
    const c = this.claims.get(id)
    return c !== undefined && c.reviewer !== reviewer && c.until > now
  }

  private closedIssue(): ReviewRefusal | undefined {
    return this.outcome
      ? refuse("REVIEW_CLOSED", `round ${this.round}'s review is closed (${this.outcome === "reached" ? "enough records were decided" : "its deadline passed"}); the round is committing`)
      : undefined
  }
}
