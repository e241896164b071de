import { type Budget, BudgetLedger, describeOverrun, type Overrun, overrun, reservationFor, type Spend, spendOf } from "../campaign/budget.js"
import type { ShardResult } from "../campaign/contracts.js"
import type { ShardPlan } from "../campaign/promptSets.js"
import type { CampaignSpec } from "../campaign/spec.js"

/**
 * A campaign's budgets as the workflow enforces them: before a piece of work starts, its most
 * cost is checked against what is spent and reserved (and the wall clock); if it fits it is
 * reserved, and settled with its real cost when it ends. Once something does not fit, the
 * campaign launches nothing more: `stopped` says which budget, and why.
 */
export class BudgetGate {
  private readonly ledger: BudgetLedger
  private overrun: Overrun | undefined

  constructor(private readonly budget: () => Budget | undefined, private readonly startedAt: number, spent?: Spend) {
    this.ledger = new BudgetLedger(spent)
  }

  /**
   * Whether work of `prompts` prompts under `spec` (each request billing at most `inputBound`
   * prompt tokens) may start: `open` when its most cost fits,
   * `wait` when it would fit only once running work settles below its reservation, `stop` for
   * good when it cannot fit (or the wall clock ran out).
   */
  admits(prompts: number, spec: CampaignSpec, inputBound: number): "open" | "wait" | "stop" {
    if (this.overrun) return "stop"
    if (this.budget() === undefined) return "open"
    const next = reservationFor(prompts, spec, inputBound)
    const over = overrunOf(this.budget(), this.ledger, next, this.startedAt)
    if (over === undefined) return "open"
    if (over.measure !== "seconds" && this.ledger.reserved.samples > 0) return "wait"
    this.overrun = over
    return "stop"
  }

  /** Reserves a shard's most cost; the returned function settles it with the shard's result. */
  reserve(shard: ShardPlan, spec: CampaignSpec, inputBound: number): (result: ShardResult) => void {
    const reservation = reservationFor(shard.end - shard.start, spec, inputBound)
    this.ledger.reserve(reservation)
    return (result) => this.ledger.settle(reservation, spendOf(result, spec))
  }

  /** Books work whose cost is known only afterwards and was admitted with `admits` (the prompt stage). */
  book(result: { readonly generated: number; readonly tokens?: { readonly prompt: number; readonly completion: number } }, spec: CampaignSpec): void {
    this.ledger.settle({ samples: 0, tokens: 0, input_tokens: 0, usd: 0 }, spendOf(result, spec))
  }

  /** What was spent so far (carried through continue-as-new). */
  get spent(): Spend {
    return this.ledger.spent
  }

  /** Why the campaign stopped launching work, once a budget was reached. */
  get stopped(): string | undefined {
    return this.overrun ? describeOverrun(this.overrun) : undefined
  }
}

const overrunOf = (budget: Budget | undefined, ledger: BudgetLedger, next: Spend, startedAt: number): Overrun | undefined =>
  overrun(budget, ledger.spent, ledger.reserved, next, (Date.now() - startedAt) / 1000)
