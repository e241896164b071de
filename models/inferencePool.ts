import { existsSync } from "node:fs"
import { availableParallelism, totalmem } from "node:os"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { Context, Effect, Layer } from "effect"
import { DEFAULTS } from "../core/defaults.js"
import { attemptPromise, InferenceFailed, reviveError, type WinnowError } from "../core/errors.js"
import type { LmStatsRow, OptionProbs } from "./causalLmScorer.js"
import type { ClassifierOutput } from "./classifierSession.js"
import type { NumberedPrompt, SampleText, StreamedToken } from "./localGenerator.js"
import { modelCopyBytes, type Placement, PlacementPlanner } from "./modelPlacement.js"
import { type JoinableAnswer, modelKey, type OpInput, type PoolRequest, type ThreadCancel, type ThreadJoin, type ThreadRequest, type ThreadResponse } from "./threadProtocol.js"

/** How many inference threads to run, the cores they share, and the memory their model copies may take. */
export interface PoolOptions {
  readonly threads: number
  /** cores shared out: a model held by k threads runs each copy with ⌊cores / k⌋ intra-op threads */
  readonly cores: number
  /** estimated bytes all loaded model copies may take; a model gets as many copies as fit, at least one */
  readonly modelMemoryBytes: number
}

/** The default budget for loaded models: `DEFAULTS.pool.modelMemoryShare` of the machine's memory. */
export const defaultModelMemoryBytes = (): number => Math.floor(totalmem() * DEFAULTS.pool.modelMemoryShare)

/**
 * `threads` inference threads sharing the machine's cores (a model on every thread gets
 * ⌊cores / threads⌋ intra-op threads per copy). Use for `--threads` options.
 */
export const poolWithThreads = (threads: number, modelMemoryBytes = defaultModelMemoryBytes(), cores = availableParallelism()): PoolOptions =>
  ({ threads, cores, modelMemoryBytes })

/**
 * Default pool: one inference thread per core. Measured on 2 cores (`npm run bench -- generate`,
 * BENCHMARKS.md): four concurrent best-of-8 requests finish 1.43× sooner on two single-threaded
 * sessions than on one with two intra-op threads, while a lone request is only ~1.1× slower
 * (intra-op parallelism scales poorly on memory-bound decode steps). Each thread that serves a
 * model loads its own copy, so a model gets only as many copies as `modelMemoryBytes` holds
 * (see `PlacementPlanner`): a big one runs on fewer threads with more cores each.
 */
export const defaultPoolOptions = (modelMemoryBytes?: number): PoolOptions => poolWithThreads(availableParallelism(), modelMemoryBytes)

/** A pool's placements by model (directory, and variant when one is named) and the requests each thread answered. */
export interface PoolStats {
  readonly models: Readonly<Record<string, Placement>>
  readonly served: readonly number[]
}

interface Waiter {
  resolve: (v: unknown) => void
  reject: (e: WinnowError) => void
  progress?: (tokens: readonly StreamedToken[]) => void
}

interface Slot {
  worker: Worker
  /** requests answered so far */
  served: number
  pending: Map<number, Waiter>
  /** joinable generations, by request id, until every prompt sent to them is answered or returned */
  joinable: Map<number, TrackedJoinable>
}

/** Where a joinable generation's prompts go: each prompt's samples as it ends, and the prompts it did not take. */
export interface JoinableHooks {
  readonly onDone: (prompt: number, samples: readonly SampleText[]) => void
  readonly onReturned: (prompts: readonly number[]) => void
}

/** A joinable generation's hooks, and how to fail it when its thread dies with prompts still out. */
interface TrackedJoinable extends JoinableHooks {
  readonly lost: (error: WinnowError) => void
}

/**
 * A running joinable generation: `join` sends more prompts (numbered on from the call's); `result`
 * settles once the generation has ended and every prompt sent to it is answered or returned.
 */
export interface JoinableCall {
  join(prompts: readonly NumberedPrompt[]): void
  readonly result: Promise<void>
}

/** Where the compiled thread entry lives (next to this module, or under dist/ when running from sources). */
const threadEntry = (): URL => {
  const here = new URL("./inferenceThread.js", import.meta.url)
  if (existsSync(fileURLToPath(here))) return here
  const built = new URL("../dist/models/inferenceThread.js", import.meta.url)
  if (existsSync(fileURLToPath(built))) return built
  throw new InferenceFailed({ model: "(pool)", reason: "inference thread code not found: run `npm run build` first" })
}

/**
 * Runs models in worker threads so ONNX Runtime's blocking `run()` never stalls the event loop
 * (Temporal heartbeats and polling live there). A request goes to the least busy of the threads
 * its model is placed on (`PlacementPlanner`: as many copies as the memory budget allows).
 */
export class ThreadPool {
  private readonly slots: Slot[] = []
  private readonly planner: PlacementPlanner
  private nextId = 1
  private closed = false

  constructor(options: PoolOptions, onPlaced?: (model: string, placement: Placement) => void) {
    this.planner = new PlacementPlanner(options.threads, options.cores, options.modelMemoryBytes, onPlaced)
    for (let i = 0; i < options.threads; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const worker = new Worker(threadEntry())
    const slot: Slot = { worker, served: 0, pending: new Map(), joinable: new Map() }
    worker.on("message", (msg: ThreadResponse) => {
      if ("done" in msg) return slot.joinable.get(msg.id)?.onDone(msg.done.prompt, msg.done.samples)
      if ("returned" in msg) return slot.joinable.get(msg.id)?.onReturned(msg.returned)
      const waiter = slot.pending.get(msg.id)
      if (!waiter) return
      if ("progress" in msg) return waiter.progress?.(msg.progress)
      slot.pending.delete(msg.id)
      slot.served++
      if (msg.ok) waiter.resolve(msg.value)
      else waiter.reject(reviveError(msg.error, "inference thread"))
    })
    const fail = (reason: string) => {
      for (const waiter of slot.pending.values()) waiter.reject(new InferenceFailed({ model: "(thread)", reason }))
      slot.pending.clear()
      for (const joinable of slot.joinable.values()) joinable.lost(new InferenceFailed({ model: "(thread)", reason }))
      slot.joinable.clear()
      if (!this.closed) {
        const index = this.slots.indexOf(slot)
        if (index >= 0) this.slots[index] = this.spawn()
      }
    }
    worker.on("error", (e) => fail(`inference thread crashed: ${e.message}`))
    worker.on("exit", (code) => code !== 0 && fail(`inference thread exited with code ${code}`))
    worker.unref()
    return slot
  }

  /**
   * Sends one request to the least busy thread; `progress` gets a streamed generation's tokens as
   * they come. Aborting `signal` stops a generation before its next decode step (it then rejects).
   */
  request<T>(request: PoolRequest, progress?: (tokens: readonly StreamedToken[]) => void, signal?: AbortSignal): Promise<T> {
    try {
      return this.send<T>(request, this.nextId++, progress, signal).promise
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Starts a generation that more prompts may join while it decodes (continuous batching): they
   * are admitted at its next decode step while the batch budget holds; the ones it never takes
   * come back through `onReturned`, also when `join` comes after the generation has ended.
   */
  startJoinable(request: OpInput<"generate">, hooks: JoinableHooks, progress?: (tokens: readonly StreamedToken[]) => void, signal?: AbortSignal): JoinableCall {
    const id = this.nextId++
    let outstanding = request.prompts.length
    let ended = false
    let drain!: { resolve: () => void; reject: (error: WinnowError) => void }
    const drained = new Promise<void>((resolve, reject) => (drain = { resolve, reject }))
    drained.catch(() => undefined)
    const release = () => {
      if (!ended || outstanding > 0) return
      sent.slot.joinable.delete(id)
      drain.resolve()
    }
    const tracked: TrackedJoinable = {
      onDone: (prompt, samples) => (outstanding--, hooks.onDone(prompt, samples), release()),
      onReturned: (prompts) => ((outstanding -= prompts.length), hooks.onReturned(prompts), release()),
      lost: (error) => drain.reject(error)
    }
    const sent = this.send<JoinableAnswer>({ op: "generate", ...request, joinable: true, ...(progress ? { stream: true } : {}) }, id, progress, signal, tracked)
    const result = sent.promise.then(
      (answer) => {
        ended = true
        if (answer.returned.length > 0) tracked.onReturned(answer.returned)
        release()
        return drained
      },
      (error: unknown) => {
        ended = true
        sent.slot.joinable.delete(id)
        throw error
      }
    )
    return {
      join: (prompts) => {
        outstanding += prompts.length
        sent.slot.worker.postMessage({ join: id, prompts } satisfies ThreadJoin)
      },
      result
    }
  }

  private send<T>(request: PoolRequest, id: number, progress?: (tokens: readonly StreamedToken[]) => void, signal?: AbortSignal, joinable?: TrackedJoinable): { promise: Promise<T>; slot: Slot } {
    if (this.closed) throw new InferenceFailed({ model: "(pool)", reason: "the inference pool is closed" })
    const placement = this.planner.place(modelKey(request), () => modelCopyBytes(request.model, request.variant, request.op === "generate"))
    const slot = placement.threads.map((t) => this.slots[t]!).reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    if (joinable) slot.joinable.set(id, joinable)
    const cancel = () => slot.worker.postMessage({ cancel: id } satisfies ThreadCancel)
    const promise = new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(progress ? { progress } : {}) })
      slot.worker.ref()
      slot.worker.postMessage({ ...request, id, intraOpThreads: placement.intraOpThreads } satisfies ThreadRequest)
      signal?.addEventListener("abort", cancel, { once: true })
    }).finally(() => {
      signal?.removeEventListener("abort", cancel)
      if (slot.pending.size === 0) slot.worker.unref()
    })
    return { promise, slot }
  }

  /** Where each model runs and how many requests each thread has answered (for health and logs). */
  stats(): PoolStats {
    return { models: Object.fromEntries(this.planner.placements()), served: this.slots.map((s) => s.served) }
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}

/** One pool request as an effect; interrupting it stops a generation in its thread before the next decode step. */
const run = <T>(pool: ThreadPool, request: PoolRequest, progress?: (tokens: readonly StreamedToken[]) => void): Effect.Effect<T, WinnowError> =>
  attemptPromise((signal) => pool.request<T>(request, progress, signal))

/**
 * The inference service: generation, classification, LM statistics and judging on local ONNX
 * models, in worker threads. Provide it with `InferencePool.layer(options)`; threads stop when the scope closes.
 */
export class InferencePool extends Context.Service<InferencePool, {
  /** Samples every prompt's responses; with `onTokens`, each step's new tokens are passed to it as they come. */
  generate(input: OpInput<"generate">, onTokens?: (tokens: readonly StreamedToken[]) => void): Effect.Effect<SampleText[], WinnowError>
  classify(input: OpInput<"classify">): Effect.Effect<ClassifierOutput, WinnowError>
  /** Mean NLL and entropy of responses under a causal LM (see `CausalLmScorer.responseStats`). */
  lmStats(input: OpInput<"lmStats">): Effect.Effect<LmStatsRow[], WinnowError>
  /** Next-token probabilities of judge options after each conversation (see `CausalLmScorer.optionProbs`). */
  judge(input: OpInput<"judge">): Effect.Effect<OptionProbs, WinnowError>
  /** A generation that prompts may join while it decodes (continuous batching; see `ThreadPool.startJoinable`). */
  startJoinable(input: OpInput<"generate">, hooks: JoinableHooks, onTokens?: (tokens: readonly StreamedToken[]) => void, signal?: AbortSignal): JoinableCall
  /** Where each model runs and what each thread has answered. */
  stats(): PoolStats
}>()("winnow/models/InferencePool") {
  /** A pool of `options.threads` inference threads, closed with its scope; `onPlaced` hears where each model goes. */
  static readonly layer = (options: PoolOptions, onPlaced?: (model: string, placement: Placement) => void) =>
    Layer.effect(
      InferencePool,
      Effect.gen(function* () {
        const pool = yield* Effect.acquireRelease(
          Effect.sync(() => new ThreadPool(options, onPlaced)),
          (p) => Effect.promise(() => p.close())
        )
        return InferencePool.of({
          generate: (input, onTokens) => run<SampleText[]>(pool, { op: "generate", ...input, ...(onTokens ? { stream: true } : {}) }, onTokens),
          classify: (input) => run<ClassifierOutput>(pool, { op: "classify", ...input }),
          lmStats: (input) => run<LmStatsRow[]>(pool, { op: "lmStats", ...input }),
          judge: (input) => run<OptionProbs>(pool, { op: "judge", ...input }),
          startJoinable: (input, hooks, onTokens, signal) => pool.startJoinable(input, hooks, onTokens, signal),
          stats: () => pool.stats()
        })
      })
    )
}
