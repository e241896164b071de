import { InferenceFailed } from "../core/errors.js"
import type { JoinableCall, JoinableHooks } from "../models/inferencePool.js"
import type { GenerationParams, GenerationPrompt, SampleText, StreamedToken } from "../models/localGenerator.js"

/** Receives each step's new tokens of a streamed generation. */
export type TokenSink = (tokens: readonly StreamedToken[]) => void

/**
 * Starts one generation call for several prompts (the inference pool's `startJoinable`) that
 * later prompts may join, streaming when given a sink, stopped by `signal`.
 */
export type StartGeneration = (prompts: readonly GenerationPrompt[], params: GenerationParams, hooks: JoinableHooks, onTokens?: TokenSink, signal?: AbortSignal) => JoinableCall

/** A request's streaming sink, and the signal of its client going away. */
export interface SubmitOptions {
  readonly onTokens?: TokenSink
  readonly signal?: AbortSignal
}

/** How a `RequestBatcher` shares the inference threads. */
export interface BatcherOptions {
  /** Calls in flight at once: the number of inference threads, so every thread has work. */
  readonly slots: number
  /** Most samples (Σ n) in one call; the generator's batch budget may admit fewer. */
  readonly maxRows: number
  /** Requests that arrive while every slot decodes join a running call at its next step (default true); else they wait for a call to end. */
  readonly continuous?: boolean
}

interface Pending {
  readonly prompt: GenerationPrompt
  readonly params: GenerationParams
  readonly onTokens: TokenSink | undefined
  readonly resolve: (samples: SampleText[]) => void
  readonly reject: (error: unknown) => void
  aborted: boolean
  settled: boolean
  /** The call it went out in: stopped when all its requests are gone. */
  call?: Call | undefined
}

interface Call {
  readonly members: Pending[]
  readonly controller: AbortController
  readonly handle: JoinableCall
  /** samples of its members not answered yet */
  rows: number
  ended: boolean
}

/** Batcher counters: calls made, requests sent, requests that joined a running call, requests or calls dropped because their clients went away. */
export interface BatcherStats {
  calls: number
  requests: number
  joined: number
  cancelled: number
}

/**
 * Merges concurrent single-prompt requests into shared generation calls, so the requests of many
 * clients are decoded as one batch the way a campaign's prompts are. A request goes out at once
 * while a slot is free. With continuous batching (the default), a request that arrives while every
 * slot decodes joins the running call with the fewest rows at its next decode step and is answered
 * as soon as its own samples end; without it, requests wait and the oldest leaves with the next
 * waiting ones when a call ends (up to an even share of the waiting samples per slot). Each keeps
 * its own sampling parameters, limits and stop strings. Use in `winnow serve`. Batched samples can
 * differ from unbatched ones in the last bits of their logits, so a seeded request is reproducible
 * only when it runs alone. A request whose signal aborts leaves the queue, or, once every request
 * of its call is gone, stops the call.
 */
export class RequestBatcher {
  private readonly waiting: Pending[] = []
  private readonly calls = new Set<Call>()
  readonly stats: BatcherStats = { calls: 0, requests: 0, joined: 0, cancelled: 0 }

  constructor(private readonly start: StartGeneration, private readonly options: BatcherOptions) {}

  /** Samples one prompt; resolves with its samples, `prompt` 0, in sample order. */
  submit(prompt: GenerationPrompt, params: GenerationParams, options: SubmitOptions = {}): Promise<SampleText[]> {
    const { onTokens, signal } = options
    if (signal?.aborted) return Promise.reject(cancelledError())
    return new Promise((resolve, reject) => {
      const pending: Pending = { prompt, params, onTokens, resolve, reject, aborted: false, settled: false }
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
      return settle(pending, () => pending.reject(cancelledError()))
    }
    const call = pending.call
    if (call && !call.ended && call.members.every((p) => p.aborted || p.settled) && !call.controller.signal.aborted) {
      this.stats.cancelled++
      call.controller.abort()
    }
  }

  private dispatch(): void {
    while (this.calls.size < this.options.slots && this.waiting.length > 0) this.open(this.takeBatch())
    if (this.options.continuous === false) return
    for (let i = 0; i < this.waiting.length; ) {
      const next = this.waiting[i]!
      const rows = next.prompt.seeds.length
      const call = [...this.calls].filter((c) => !c.ended && c.rows > 0 && c.rows + rows <= this.options.maxRows).sort((a, b) => a.rows - b.rows)[0]
      if (!call) {
        i++
        continue
      }
      this.waiting.splice(i, 1)
      this.stats.joined++
      this.stats.requests++
      this.enlist(call, next)
      call.handle.join([{ index: call.members.length - 1, prompt: { ...next.prompt, params: next.params } }])
    }
  }

  private open(batch: Pending[]): void {
    const controller = new AbortController()
    const hooks: JoinableHooks = {
      onDone: (index, samples) => {
        const member = call.members[index]!
        call.rows -= member.prompt.seeds.length
        settle(member, () => member.resolve(samples.map((s) => ({ ...s, prompt: 0 }))))
        this.dispatch()
      },
      onReturned: (indices) => {
        call.ended = true
        const back = indices.map((i) => call.members[i]!).filter((p) => !p.settled)
        back.forEach((p) => {
          call.rows -= p.prompt.seeds.length
          p.call = undefined
        })
        this.waiting.unshift(...back.filter((p) => !p.aborted))
        this.dispatch()
      }
    }
    const routed = routeTokens(() => call.members)
    const handle = this.start(batch.map((p) => ({ ...p.prompt, params: p.params })), batch[0]!.params, hooks, routed, controller.signal)
    const call: Call = { members: [], controller, handle, rows: 0, ended: false }
    batch.forEach((p) => this.enlist(call, p))
    this.calls.add(call)
    this.stats.calls++
    this.stats.requests += batch.length
    handle.result
      .then(
        () => call.members.forEach((p) => p.call === call && settle(p, () => p.reject(new InferenceFailed({ model: "(serve)", reason: "the generation ended without answering this request" })))),
        (error: unknown) => call.members.forEach((p) => p.call === call && settle(p, () => p.reject(error)))
      )
      .finally(() => {
        call.ended = true
        this.calls.delete(call)
        this.dispatch()
      })
  }

  private enlist(call: Call, pending: Pending): void {
    call.members.push(pending)
    call.rows += pending.prompt.seeds.length
    pending.call = call
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
      if (rows + next.prompt.seeds.length > share) {
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

/** Runs `action` (resolve or reject) once per request. */
const settle = (pending: Pending, action: () => void): void => {
  if (pending.settled) return
  pending.settled = true
  action()
}

/** A sink that hands each request of a call its own tokens (as prompt 0); requests join, so members are read at each step. */
const routeTokens = (members: () => readonly Pending[]): TokenSink => (tokens) => {
  const all = members()
  const own = new Map<Pending, StreamedToken[]>()
  for (const token of tokens) {
    const p = all[token.prompt]
    if (!p?.onTokens) continue
    const list = own.get(p) ?? []
    list.push({ ...token, prompt: 0 })
    own.set(p, list)
  }
  own.forEach((list, p) => p.onTokens!(list))
}

const cancelledError = (): InferenceFailed => new InferenceFailed({ model: "(serve)", reason: "cancelled: the client went away" })
