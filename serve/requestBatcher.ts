import { InferenceFailed } from "../core/errors.js"
import type { GenerationParams, GenerationPrompt, SampleText, StreamedToken } from "../models/localGenerator.js"

/** Receives each step's new tokens of a streamed generation. */
export type TokenSink = (tokens: readonly StreamedToken[]) => void

/** Runs one generation call for several prompts (the inference pool's `generate`), streaming when given a sink, stopped by `signal`. */
export type GenerateMany = (prompts: readonly GenerationPrompt[], params: GenerationParams, onTokens?: TokenSink, signal?: AbortSignal) => Promise<SampleText[]>

/** A request's streaming sink, and the signal of its client going away. */
export interface SubmitOptions {
  readonly onTokens?: TokenSink
  readonly signal?: AbortSignal
}

/** How a `RequestBatcher` shares the inference threads. */
export interface BatcherOptions {
  /** Calls in flight at once: the number of inference threads, so every thread has work. */
  readonly slots: number
  /** Most samples (Σ n) merged into one call; the generator's batch planner splits further by memory. */
  readonly maxRows: number
}

interface Pending {
  readonly prompt: GenerationPrompt
  readonly params: GenerationParams
  readonly onTokens: TokenSink | undefined
  readonly resolve: (samples: SampleText[]) => void
  readonly reject: (error: unknown) => void
  aborted: boolean
  /** Set once the request leaves in a call: stops that call when all its requests are gone. */
  call?: { readonly members: readonly Pending[]; readonly controller: AbortController }
}

/**
 * Merges concurrent single-prompt requests into one generation call, so the requests of many
 * clients are decoded as one batch the way a campaign's prompts are. A request goes out at once
 * while a slot is free; requests that arrive while every slot is busy wait, and the oldest of them
 * leaves with the next waiting ones (up to an even share of the waiting samples per slot, at most
 * `maxRows`), each keeping its own sampling parameters, limits and stop strings. Use in `winnow serve`. Batched samples can differ from unbatched ones in the last bits
 * of their logits, so a seeded request is reproducible only when it runs alone. A request whose
 * signal aborts leaves the queue, or, once every request of its call is gone, stops the call.
 */
export class RequestBatcher {
  private readonly waiting: Pending[] = []
  private busy = 0
  /** Generation calls made so far, the requests they carried, and the calls or waiting requests dropped because their clients went away. */
  readonly stats = { calls: 0, requests: 0, cancelled: 0 }

  constructor(private readonly generate: GenerateMany, private readonly options: BatcherOptions) {}

  /** Samples one prompt; resolves with its samples, `prompt` 0, in sample order. */
  submit(prompt: GenerationPrompt, params: GenerationParams, options: SubmitOptions = {}): Promise<SampleText[]> {
    const { onTokens, signal } = options
    if (signal?.aborted) return Promise.reject(cancelledError())
    return new Promise((resolve, reject) => {
      const pending: Pending = { prompt, params, onTokens, resolve, reject, aborted: false }
      signal?.addEventListener("abort", () => this.abandon(pending), { once: true })
      this.waiting.push(pending)
      this.dispatch()
    })
  }

  private abandon(pending: Pending): void {
    pending.aborted = true
    const at = this.waiting.indexOf(pending)
    if (at >= 0) {
      this.waiting.splice(at, 1)
      this.stats.cancelled++
      return pending.reject(cancelledError())
    }
    if (pending.call?.members.every((p) => p.aborted) && !pending.call.controller.signal.aborted) {
      this.stats.cancelled++
      pending.call.controller.abort()
    }
  }

  private dispatch(): void {
    while (this.busy < this.options.slots && this.waiting.length > 0) {
      const batch = this.takeBatch()
      const call = { members: batch, controller: new AbortController() }
      batch.forEach((p) => (p.call = call))
      this.busy++
      this.stats.calls++
      this.stats.requests += batch.length
      this.generate(batch.map((p) => ({ ...p.prompt, params: p.params })), batch[0]!.params, routeTokens(batch), call.controller.signal)
        .then(
          (samples) => batch.forEach((p, i) => p.resolve(samples.filter((s) => s.prompt === i).map((s) => ({ ...s, prompt: 0 })))),
          (error: unknown) => batch.forEach((p) => p.reject(error))
        )
        .finally(() => {
          this.busy--
          this.dispatch()
        })
    }
  }

  /**
   * The oldest waiting request and the later ones that fit, up to an even share of the waiting
   * samples per slot (so one thread does not take every request while the next to free up finds none).
   */
  private takeBatch(): Pending[] {
    const first = this.waiting.shift()!
    const batch = [first]
    const waitingRows = this.waiting.reduce((sum, p) => sum + p.prompt.seeds.length, first.prompt.seeds.length)
    const share = Math.min(this.options.maxRows, Math.ceil(waitingRows / this.options.slots))
    let rows = first.prompt.seeds.length
    for (let i = 0; i < this.waiting.length; ) {
      const next = this.waiting[i]!
      const fits = rows + next.prompt.seeds.length <= share
      if (!fits) {
        i++
        continue
      }
      batch.push(next)
      rows += next.prompt.seeds.length
      this.waiting.splice(i, 1)
    }
    return batch
  }
}

/** A sink that hands each request of a merged call its own tokens (as prompt 0), or none when no request streams. */
const routeTokens = (batch: readonly Pending[]): TokenSink | undefined => {
  if (batch.every((p) => p.onTokens === undefined)) return undefined
  return (tokens) => {
    batch.forEach((p, i) => {
      if (!p.onTokens) return
      const own = tokens.filter((t) => t.prompt === i)
      if (own.length > 0) p.onTokens(own.map((t) => ({ ...t, prompt: 0 })))
    })
  }
}

const cancelledError = (): InferenceFailed => new InferenceFailed({ model: "(serve)", reason: "cancelled: the client went away" })
