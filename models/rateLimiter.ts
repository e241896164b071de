import { Effect } from "effect"

/** Limits a server asks its clients to keep: requests and tokens per minute (either may be absent). */
export interface RateLimits {
  readonly requests_per_minute?: number
  readonly tokens_per_minute?: number
}

/** The lowest share of the configured rate a limiter slows down to after repeated 429s. */
const FLOOR = 1 / 16
/** Successes in a row after which the rate grows back by `GROWTH`, up to the configured rate. */
const SUCCESSES_TO_GROW = 20
const GROWTH = 1.25

/**
 * An adaptive token-bucket limiter for one server: a request waits until both its buckets
 * (requests and tokens per minute) hold enough; a 429 halves the rate it allows, and a run of
 * successes raises it again towards the configured limits. One per server in a worker process,
 * so what a server said holds for every activity (and every retry) that talks to it.
 */
export class AdaptiveRateLimiter {
  private share = 1
  private successes = 0
  private requests: number
  private tokens: number
  private last: number

  constructor(private readonly limits: RateLimits, private readonly now: () => number = Date.now) {
    this.requests = limits.requests_per_minute ?? 0
    this.tokens = limits.tokens_per_minute ?? 0
    this.last = now()
  }

  /** The share of the configured limits it allows now (1 = all of it). */
  get rateShare(): number {
    return this.share
  }

  /** Waits until a request that may use `tokens` tokens fits, then takes it out of the buckets. */
  acquire(tokens: number): Effect.Effect<void> {
    const self = this
    return Effect.gen(function* () {
      for (;;) {
        const wait = self.tryTake(tokens)
        if (wait <= 0) return
        yield* Effect.sleep(wait)
      }
    })
  }

  /** The server answered 429: slow down. */
  throttled(): void {
    this.refill()
    this.share = Math.max(FLOOR, this.share / 2)
    this.successes = 0
    this.requests = Math.min(this.requests, this.capacity(this.limits.requests_per_minute))
    this.tokens = Math.min(this.tokens, this.capacity(this.limits.tokens_per_minute))
  }

  /** A request succeeded: after a run of them, speed up again. */
  succeeded(): void {
    if (this.share >= 1 || ++this.successes < SUCCESSES_TO_GROW) return
    this.share = Math.min(1, this.share * GROWTH)
    this.successes = 0
  }

  private capacity(perMinute: number | undefined): number {
    return perMinute === undefined ? Number.POSITIVE_INFINITY : perMinute * this.share
  }

  private refill(): void {
    const now = this.now()
    const minutes = (now - this.last) / 60_000
    this.last = now
    const { requests_per_minute: rpm, tokens_per_minute: tpm } = this.limits
    if (rpm !== undefined) this.requests = Math.min(this.capacity(rpm), this.requests + minutes * this.capacity(rpm))
    if (tpm !== undefined) this.tokens = Math.min(this.capacity(tpm), this.tokens + minutes * this.capacity(tpm))
  }

  /** Takes a request of `tokens` out of the buckets if it fits now (returns 0), else returns the milliseconds to wait. */
  tryTake(tokens: number): number {
    this.refill()
    const { requests_per_minute: rpm, tokens_per_minute: tpm } = this.limits
    const need = Math.min(tokens, tpm === undefined ? tokens : this.capacity(tpm))
    const requestWait = rpm === undefined || this.requests >= 1 ? 0 : ((1 - this.requests) / this.capacity(rpm)) * 60_000
    const tokenWait = tpm === undefined || this.tokens >= need ? 0 : ((need - this.tokens) / this.capacity(tpm)) * 60_000
    const wait = Math.max(requestWait, tokenWait)
    if (wait > 0) return Math.ceil(wait)
    if (rpm !== undefined) this.requests -= 1
    if (tpm !== undefined) this.tokens -= need
    return 0
  }
}
