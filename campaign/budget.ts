import type { CampaignSpec } from "./spec.js"

/**
 * Hard budgets, pure: what a piece of work may cost at most (reserved before it is launched),
 * what it did cost (settled when it ends), and whether the next piece still fits. Reserving the
 * upper bound first is what keeps a budget from ever being exceeded, also when shards run in
 * parallel or are retried (a retried shard produces the same samples, counted once).
 */

/** What a campaign may spend, in any of four measures (each optional). */
export interface Budget {
  readonly samples?: number
  readonly tokens?: number
  readonly seconds?: number
  readonly usd?: number
}

/** Spend in the measures a ledger counts. */
export interface Spend {
  readonly samples: number
  readonly tokens: number
  readonly input_tokens: number
  readonly usd: number
}

/** No spend. */
export const NOTHING: Spend = { samples: 0, tokens: 0, input_tokens: 0, usd: 0 }

const add = (a: Spend, b: Spend, sign = 1): Spend => ({
  samples: a.samples + sign * b.samples,
  tokens: a.tokens + sign * b.tokens,
  input_tokens: a.input_tokens + sign * b.input_tokens,
  usd: a.usd + sign * b.usd
})

/** What a remote backend charges per million tokens. */
export interface Price {
  readonly input_per_million: number
  readonly output_per_million: number
}

/** The price the spec's generator backend charges, if it names one (specs older than backends have none). */
export const priceOf = (spec: CampaignSpec): Price | undefined => {
  const backend = spec.generator.backend as CampaignSpec["generator"]["backend"] | undefined
  return backend?.type === "openai" ? backend.price : undefined
}

/** What tokens cost at a price (0 without one: local generation costs no money). */
export const costOf = (input: number, output: number, price: Price | undefined): number =>
  price === undefined ? 0 : (input * price.input_per_million + output * price.output_per_million) / 1e6

/** Prompt tokens assumed per request for prompt sets stored without their size (before budgets existed). */
export const INPUT_TOKENS_GUESS = 1024

/** Tokens a chat template may add around the turns (role headers, special tokens). */
const TEMPLATE_TOKENS = 64

/**
 * The most prompt tokens one request of a prompt set can bill: its largest prompt's UTF-8 bytes
 * (a byte-level tokenizer never makes more tokens than bytes), the system prompt's, and the
 * template's own tokens.
 */
export const inputBoundOf = (maxInputBytes: number | undefined, spec: CampaignSpec): number =>
  maxInputBytes === undefined
    ? INPUT_TOKENS_GUESS
    : maxInputBytes + new TextEncoder().encode(spec.generator.system_prompt ?? "").length + TEMPLATE_TOKENS

/**
 * The most a shard of `prompts` prompts can cost: every sample running to `max_new_tokens`,
 * every sample billed its prompt (servers that take `n` bill it once; this bounds the others).
 */
export const reservationFor = (prompts: number, spec: CampaignSpec, inputPerRequest: number): Spend => {
  const samples = prompts * spec.generator.n
  const tokens = samples * spec.generator.max_new_tokens
  const input = Math.ceil(samples * inputPerRequest)
  return { samples, tokens, input_tokens: input, usd: costOf(input, tokens, priceOf(spec)) }
}

/** What a finished shard cost: its samples, generated tokens and prompt tokens at the backend's price. */
export const spendOf = (result: { readonly generated: number; readonly tokens?: { readonly prompt: number; readonly completion: number } }, spec: CampaignSpec): Spend => {
  const tokens = result.tokens ?? { prompt: 0, completion: 0 }
  return { samples: result.generated, tokens: tokens.completion, input_tokens: tokens.prompt, usd: costOf(tokens.prompt, tokens.completion, priceOf(spec)) }
}

/** Which budget a piece of work would break, and by how much; undefined when it fits. */
export interface Overrun {
  readonly measure: keyof Budget
  readonly limit: number
  readonly used: number
  readonly need: number
}

/**
 * Whether work costing at most `next` fits beside what is spent and reserved. `elapsed` (seconds
 * since the campaign started) is checked against `seconds`: past it, nothing more starts.
 */
export const overrun = (budget: Budget | undefined, spent: Spend, reserved: Spend, next: Spend, elapsed: number): Overrun | undefined => {
  if (budget === undefined) return undefined
  const used = add(spent, reserved)
  const measures: Array<[keyof Budget, number, number]> = [
    ["samples", used.samples, next.samples],
    ["tokens", used.tokens, next.tokens],
    ["usd", used.usd, next.usd]
  ]
  for (const [measure, already, need] of measures) {
    const limit = budget[measure]
    if (limit !== undefined && already + need > limit + 1e-9) return { measure, limit, used: already, need }
  }
  if (budget.seconds !== undefined && elapsed >= budget.seconds) return { measure: "seconds", limit: budget.seconds, used: elapsed, need: 0 }
  return undefined
}

/** A campaign's ledger: spent and reserved, moved by `reserve` before work starts and `settle` when it ends. */
export class BudgetLedger {
  constructor(public spent: Spend = NOTHING, public reserved: Spend = NOTHING) {}

  /** Reserves the most a piece of work can cost. */
  reserve(cost: Spend): void {
    this.reserved = add(this.reserved, cost)
  }

  /** Releases a reservation and books what the work really cost. */
  settle(reservation: Spend, actual: Spend): void {
    this.reserved = add(this.reserved, reservation, -1)
    this.spent = add(this.spent, actual)
  }

}

/** Words for an overrun, for the status and the run summary. */
export const describeOverrun = (o: Overrun): string =>
  o.measure === "seconds"
    ? `the wall-clock budget of ${o.limit} s ran out (${Math.round(o.used)} s since the campaign started)`
    : `the ${o.measure} budget of ${o.limit} would be exceeded: ${round(o.used)} spent or reserved, the next piece of work may need ${round(o.need)}`

const round = (x: number): number => Math.round(x * 1000) / 1000
