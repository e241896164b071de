import { type Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from "@temporalio/client"
import { ApplicationFailure, WorkflowNotFoundError } from "@temporalio/common"
import type { ReviewItem } from "../campaign/review.js"
import type { ClaimAnswer, DecideAnswer, DecideRequest, ReviewState } from "../campaign/reviewPool.js"
import { CAMPAIGN_WORKFLOW } from "../cli/campaignClient.js"
import { DEFAULTS } from "../core/defaults.js"
import { reviewClaimUpdate, reviewDecideUpdate, reviewQuery } from "../workflows/review.js"

/** A refusal the page shows: HTTP status, a stable code (the page translates it) and the message. */
export class ReviewProblem extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** A campaign whose review the page can work on. */
export interface OpenReview {
  readonly campaign: string
  readonly state: ReviewState
}

/** A claim as the page gets it: the record with every text beside the workflow's answer. */
export interface PageClaim extends Omit<ClaimAnswer, "item"> {
  readonly campaign: string
  readonly item: ReviewItem | null
}

/** Reads the record texts of a round's review sample (see `review/items.ts`). */
export type ItemReader = (campaign: string, round: number, id: string) => Promise<ReviewItem>

const quoted = (id: string) => `'${id.replace(/['\\]/g, "")}'`

/**
 * What `winnow review` asks Temporal: which campaigns wait for reviewers, claims and decisions
 * (as updates, so the page hears at once whether a decision was applied), each with a deadline.
 * Failures become `ReviewProblem`s that say what happened and whether anything changed.
 */
export class ReviewApi {
  constructor(private readonly client: Client, private readonly items: ItemReader, private readonly answerMs = DEFAULTS.reviewServer.answer_ms) {}

  /** Running campaigns with a review open (or only `campaign`, whatever its state). */
  async reviews(campaign?: string): Promise<OpenReview[]> {
    const ids: string[] = []
    const query = campaign === undefined
      ? `WorkflowType = '${CAMPAIGN_WORKFLOW}' AND ExecutionStatus = 'Running'`
      : `WorkflowId = ${quoted(campaign)} AND ExecutionStatus = 'Running'`
    for await (const wf of this.client.workflow.list({ query })) if (!ids.includes(wf.workflowId)) ids.push(wf.workflowId)
    if (campaign !== undefined && ids.length === 0) throw await this.gone(campaign)
    const found = await Promise.all(ids.map(async (id) => {
      const state = await this.within(() => this.client.workflow.getHandle(id).query(reviewQuery)).catch(() => undefined)
      return state && (campaign !== undefined || state.status === "open") ? { campaign: id, state } : undefined
    }))
    return found.filter((r): r is OpenReview => r !== undefined)
  }

  /** Claims the next record for `reviewer` and adds its texts. */
  async claim(campaign: string, reviewer: string): Promise<PageClaim> {
    const answer = await this.update(campaign, () => this.client.workflow.getHandle(campaign).executeUpdate(reviewClaimUpdate, { args: [{ reviewer }] }))
    const item = answer.item ? await this.items(campaign, answer.round, answer.item.id) : null
    return { ...answer, campaign, item }
  }

  /** Sends a decision; a decision id the campaign has seen is answered `repeated`, never applied twice. */
  async decide(campaign: string, request: DecideRequest): Promise<DecideAnswer & { readonly campaign: string }> {
    const answer = await this.update(campaign, () =>
      this.client.workflow.getHandle(campaign).executeUpdate(reviewDecideUpdate, { args: [request] }))
    return { ...answer, campaign }
  }

  private within<A>(call: () => Promise<A>): Promise<A> {
    return this.client.withDeadline(Date.now() + this.answerMs, call)
  }

  private async update<A>(campaign: string, call: () => Promise<A>): Promise<A> {
    try {
      return await this.within(call)
    } catch (error) {
      throw await this.problemOf(campaign, error)
    }
  }

  private async problemOf(campaign: string, error: unknown): Promise<ReviewProblem> {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const code = error.cause.type ?? "REVIEW_REFUSED"
      return new ReviewProblem(code === "REVIEW_STALE" || code === "REVIEW_CLOSED" ? 410 : 409, code, error.cause.message)
    }
    if (error instanceof WorkflowNotFoundError) return this.gone(campaign)
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (error as { code?: number })?.code === 4) {
      return new ReviewProblem(504, "REVIEW_NO_ANSWER", `campaign ${campaign} did not answer within ${Math.round(this.answerMs / 1000)} s (is a worker running?); the decision may or may not be recorded: sending it again is safe, it carries the same decision id`)
    }
    return new ReviewProblem(502, "REVIEW_TEMPORAL", `Temporal refused the call: ${(error as Error)?.message ?? String(error)}`)
  }

  /** Why a campaign cannot be reviewed: it finished (its rounds are committed) or does not exist. */
  private async gone(campaign: string): Promise<ReviewProblem> {
    try {
      const status = (await this.within(() => this.client.workflow.getHandle(campaign).describe())).status.name
      return new ReviewProblem(410, "REVIEW_STALE", `campaign ${campaign} is no longer running (${status.toLowerCase()}): its rounds are committed and no review is open; this page is out of date and nothing was changed`)
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return new ReviewProblem(404, "REVIEW_NOT_FOUND", `campaign not found: ${campaign} (\`winnow campaign list\` shows the campaigns this server knows)`)
      return new ReviewProblem(502, "REVIEW_TEMPORAL", `Temporal refused the call: ${(error as Error)?.message ?? String(error)}`)
    }
  }
}
