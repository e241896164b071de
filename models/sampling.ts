import type { Rng } from "../core/rng.js"

/** The sampling knobs of one request; `temperature` 0 means greedy. */
export interface SamplingParams {
  readonly temperature: number
  readonly top_k: number
  readonly top_p: number
  readonly min_p: number
  readonly repetition_penalty: number
  /** Also report this many most likely tokens of each step with their log-probabilities (0–20; default 0). */
  readonly top_logprobs?: number
}

/** One of the most likely tokens of a step, under the model's own distribution. */
export interface TokenAlternative {
  readonly token: number
  readonly logprob: number
}

/** What one sampling step chose and what it knew about the distribution. */
export interface SampledToken {
  readonly token: number
  /** log-probability of the token under the model's own distribution (temperature 1, no truncation). */
  readonly logprob: number
  /** entropy (nats) of the model's own distribution at this step. */
  readonly entropy: number
  /** with `top_logprobs`: the step's most likely tokens, best first. */
  readonly alternatives?: readonly TokenAlternative[]
}

/**
 * Samples one token from a logits row. Never sorts the whole vocabulary: a bounded heap keeps
 * the top-k candidates, and top-p/min-p work inside them (k grows only if the nucleus needs it).
 * `seen` holds the ids generated so far, for the repetition penalty.
 */
export const sampleToken = (
  logits: Float32Array,
  offset: number,
  vocab: number,
  params: SamplingParams,
  rng: Rng,
  seen?: ReadonlySet<number>
): SampledToken => {
  const row = logits.subarray(offset, offset + vocab)
  const stats = distributionStats(row)
  const penalised = params.repetition_penalty !== 1 && seen && seen.size > 0 ? applyPenalty(row, seen, params.repetition_penalty) : row
  const token = params.temperature === 0 ? argmax(penalised) : drawToken(penalised, params, rng, penalised === row ? stats : undefined)
  const sampled = { token, logprob: row[token]! - stats.logZ, entropy: stats.entropy }
  if (!params.top_logprobs) return sampled
  const alternatives = Array.from(topK(row, Math.min(params.top_logprobs, vocab)), (id) => ({ token: id, logprob: row[id]! - stats.logZ }))
  return { ...sampled, alternatives }
}

/** log-partition and entropy of softmax(row), in one pass over the vocabulary. */
export const distributionStats = (row: Float32Array): DistributionStats => {
  let max = -Infinity
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!
  let sum = 0
  let weighted = 0
  for (let i = 0; i < row.length; i++) {
    const x = row[i]!
    const e = Math.exp(x - max)
    sum += e
    weighted += e * x
  }
  const logZ = max + Math.log(sum)
  return { logZ, entropy: logZ - weighted / sum, max, sumExp: sum }
}

/** Summary of softmax(row): log-partition, entropy, and the max and Σ exp(x − max) they came from. */
export interface DistributionStats {
  readonly logZ: number
  readonly entropy: number
  readonly max: number
  readonly sumExp: number
}

const applyPenalty = (row: Float32Array, seen: ReadonlySet<number>, penalty: number): Float32Array => {
  const out = new Float32Array(row)
  for (const id of seen) {
    const x = out[id]!
    out[id] = x > 0 ? x / penalty : x * penalty
  }
  return out
}

const argmax = (row: Float32Array): number => {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i
  return best
}

const drawToken = (row: Float32Array, params: SamplingParams, rng: Rng, stats?: DistributionStats): number => {
  const vocab = row.length
  const invT = 1 / params.temperature
  let k = params.top_k > 0 ? Math.min(params.top_k, vocab) : Math.min(64, vocab)
  for (;;) {
    const ids = topK(row, k)
    const candidates = nucleus(row, ids, invT, params, invT === 1 ? stats : undefined)
    const exhausted = params.top_k > 0 || k >= vocab || candidates.complete
    if (exhausted) return pick(candidates.ids, candidates.weights, rng)
    k = Math.min(vocab, k * 4)
  }
}

/** Ids of the k largest logits, largest first (bounded min-heap, O(V log k)). */
export const topK = (row: Float32Array, k: number): Int32Array => {
  const heap = new Int32Array(k)
  let size = 0
  const less = (a: number, b: number) => row[a]! < row[b]! || (row[a] === row[b] && a > b)
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < size && less(heap[l]!, heap[m]!)) m = l
      if (r < size && less(heap[r]!, heap[m]!)) m = r
      if (m === i) return
      ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
      i = m
    }
  }
  for (let id = 0; id < row.length; id++) {
    if (size < k) {
      heap[size] = id
      let i = size++
      while (i > 0) {
        const p = (i - 1) >> 1
        if (!less(heap[i]!, heap[p]!)) break
        ;[heap[i], heap[p]] = [heap[p]!, heap[i]!]
        i = p
      }
    } else if (less(heap[0]!, id)) {
      heap[0] = id
      siftDown(0)
    }
  }
  const out = Array.from(heap.subarray(0, size))
  out.sort((a, b) => row[b]! - row[a]! || a - b)
  return Int32Array.from(out)
}

/**
 * The top-p / min-p candidates among `ids` (sorted best first). Needs the softmax total only for
 * top-p < 1, and reuses `stats` for it at temperature 1 instead of another pass over the vocabulary.
 */
const nucleus = (
  row: Float32Array,
  ids: Int32Array,
  invT: number,
  params: SamplingParams,
  stats?: DistributionStats
): { ids: Int32Array; weights: Float64Array; complete: boolean } => {
  const max = stats?.max ?? row[ids[0]!]!
  let total = Infinity
  if (params.top_p < 1) {
    if (stats) total = stats.sumExp
    else {
      total = 0
      for (let i = 0; i < row.length; i++) total += Math.exp((row[i]! - max) * invT)
    }
  }
  const weights = new Float64Array(ids.length)
  let mass = 0
  let count = 0
  const floor = params.min_p > 0 ? params.min_p * Math.exp((row[ids[0]!]! - max) * invT) : 0
  for (let i = 0; i < ids.length; i++) {
    const w = Math.exp((row[ids[i]!]! - max) * invT)
    if (i > 0 && w < floor) return { ids: ids.subarray(0, count), weights: weights.subarray(0, count), complete: true }
    weights[i] = w
    mass += w
    count++
    if (mass / total >= params.top_p) return { ids: ids.subarray(0, count), weights: weights.subarray(0, count), complete: true }
  }
  return { ids, weights, complete: false }
}

const pick = (ids: Int32Array, weights: Float64Array, rng: Rng): number => {
  let sum = 0
  for (let i = 0; i < weights.length; i++) sum += weights[i]!
  let u = rng.next() * sum
  for (let i = 0; i < ids.length; i++) {
    u -= weights[i]!
    if (u < 0) return ids[i]!
  }
  return ids[ids.length - 1]!
}
