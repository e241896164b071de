import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { DEFAULTS } from "../core/defaults.js"
import { batchKvBytes } from "./batchPlan.js"
import { configKvShape } from "./modelConfig.js"
import { findWeights } from "./modelDir.js"
import { onnxWeightFiles } from "./modelHash.js"

/** Where one model runs in a pool: the threads that may load a copy of it and the cores each copy's session uses. */
export interface Placement {
  readonly threads: readonly number[]
  readonly intraOpThreads: number
  /** estimated bytes one loaded copy holds (0 when the model's files could not be found) */
  readonly copyBytes: number
}

/**
 * Decides, the first time a pool meets a model, how many of its threads may hold a copy: as many
 * as the memory budget still allows (at least one, at most every thread), picking the threads
 * that hold the fewest bytes so far. Each copy's session gets ⌊cores / copies⌋ intra-op threads,
 * so a model too big to copy on every thread runs on fewer threads with more cores each.
 * Use inside the inference pool; the plan lasts as long as the pool.
 */
export class PlacementPlanner {
  private readonly plans = new Map<string, Placement>()
  private readonly threadBytes: number[]
  private remaining: number

  constructor(
    private readonly threads: number,
    private readonly cores: number,
    budgetBytes: number,
    private readonly onPlaced: (key: string, placement: Placement) => void = () => {}
  ) {
    this.threadBytes = Array.from({ length: threads }, () => 0)
    this.remaining = budgetBytes
  }

  /** The placement of the model `key`, planned (and told to `onPlaced`) on first use from `copyBytes()`. */
  place(key: string, copyBytes: () => number): Placement {
    const known = this.plans.get(key)
    if (known) return known
    const bytes = copyBytes()
    const fit = bytes > 0 ? Math.floor(this.remaining / bytes) : this.threads
    const copies = Math.min(this.threads, Math.max(1, fit))
    const threads = this.threadBytes
      .map((held, thread) => ({ held, thread }))
      .sort((a, b) => a.held - b.held || a.thread - b.thread)
      .slice(0, copies)
      .map((t) => t.thread)
      .sort((a, b) => a - b)
    for (const t of threads) this.threadBytes[t]! += bytes
    this.remaining -= copies * bytes
    const plan: Placement = { threads, intraOpThreads: Math.max(1, Math.floor(this.cores / copies)), copyBytes: bytes }
    this.plans.set(key, plan)
    this.onPlaced(key, plan)
    return plan
  }

  /** Every model planned so far, by key. */
  placements(): ReadonlyMap<string, Placement> {
    return this.plans
  }
}

/**
 * Estimated resident bytes of one loaded copy of a model directory's ONNX file (or `variant`):
 * its weight files' size times the measured load factor (ONNX Runtime keeps pre-packed copies of
 * MatMul weights), plus, for a generator, what its largest batch's KV cache costs while decoding.
 * 0 when the file is not found; the thread that loads it reports that properly.
 */
export const modelCopyBytes = (dir: string, variant?: string, generates = false): number => {
  const onnx = findWeights(dir, variant)
  if (!onnx) return 0
  const size = onnxWeightFiles(onnx).reduce((sum, file) => sum + statSync(file).size, 0)
  const decoding = generates ? batchKvBytes(kvBytesPerToken(dir)) * DEFAULTS.pool.decodingKvFactor : 0
  return Math.round(size * DEFAULTS.pool.loadedWeightsFactor + decoding)
}

/** float32 KV-cache bytes per token from config.json, 0 when it does not say. */
const kvBytesPerToken = (dir: string): number => {
  let config: Record<string, unknown>
  try {
    config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>
  } catch {
    return 0
  }
  const { layers, kvHeads, headDim } = configKvShape(config)
  return layers && kvHeads && headDim ? layers * 2 * kvHeads * headDim * 4 : 0
}

/** A pool's `onPlaced` that logs where a model went the first time a request needed it. */
export const logPlacement = (logger: { info(details: Record<string, unknown>, message: string): void }) => (model: string, placement: Placement): void =>
  logger.info({ model, threads: placement.threads, intraOpThreads: placement.intraOpThreads, copyMiB: Math.round(placement.copyBytes / 2 ** 20) }, "model placed on inference threads")
