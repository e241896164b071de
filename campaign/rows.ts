import type { Combined } from "./combine.js"

/**
 * The rows that flow through a shard, in the form the work files store them: generate writes
 * `SampleRow`s, score `ScoredRow`s, select `SelectedRow`s, and stage turns those into records.
 * A score that is not a finite number is stored as null; `liveScores` and `finiteScores` are the
 * only ways back, so every reader agrees on what a missing score is.
 */

/** Why a sample stopped: the end-of-sequence token, a stop string, or the token limit. */
export type FinishReason = "eos" | "stop" | "length"

/** One generated sample as stored in a shard's `samples.jsonl`. */
export interface SampleRow {
  readonly prompt_index: number
  readonly prompt_id: string
  readonly sample_index: number
  readonly text: string
  readonly finish: FinishReason
  readonly token_count: number
  readonly prompt_tokens: number
  readonly logprobs: number[]
  readonly entropies: number[]
}

/** Per-scorer values as stored: null where a scorer gave no finite number. */
export type StoredScores = Readonly<Record<string, number | null>>

/**
 * A sample with its raw per-scorer values, the combined ranking score, and whether it passed
 * every hard filter, as in `scored.jsonl`.
 */
export interface ScoredRow extends Omit<SampleRow, "logprobs" | "entropies"> {
  readonly scores: StoredScores
  readonly score: number
  readonly passed: boolean
  /** Scorers whose filter failed, or whose value could not be ranked. */
  readonly failed?: string[]
  /** Scorers that had to truncate this sample's input. */
  readonly truncated?: string[]
  /** Mean log-probability of the sampled tokens; null when the generator recorded none. */
  readonly logprob_mean: number | null
}

/** A preference pair as stored in a shard's `selected.jsonl` under `preference_pairs`. */
export interface SelectedPair {
  readonly prompt_index: number
  readonly prompt_id: string
  readonly chosen: ScoredRow
  readonly rejected: ScoredRow
  readonly margin: number
}

/** What `selected.jsonl` holds: kept samples (best-of-N, threshold) or preference pairs. */
export type SelectedRow = ScoredRow | SelectedPair

/** True for a preference pair row. */
export const isPair = (row: SelectedRow): row is SelectedPair => "chosen" in row

/** The sample a selected row keeps: itself, or a pair's chosen response. */
export const keptSample = (row: SelectedRow): ScoredRow => (isPair(row) ? row.chosen : row)

/** Stored form of in-memory scores: anything not finite becomes null. */
export const storedScores = (scores: Readonly<Record<string, number>>): StoredScores =>
  Object.fromEntries(Object.entries(scores).map(([name, v]) => [name, Number.isFinite(v) ? v : null]))

/** In-memory form of stored scores, for statistics: null becomes NaN (left out of every summary). */
export const liveScores = (scores: StoredScores): Record<string, number> =>
  Object.fromEntries(Object.entries(scores).map(([name, v]) => [name, typeof v === "number" ? v : Number.NaN]))

/** Only the scores that have a value, as records carry them. */
export const finiteScores = (scores: StoredScores): Record<string, number> =>
  Object.fromEntries(Object.entries(scores).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1])))

/** Mean of recorded log-probabilities; null when there are none (never 0, which would claim certainty). */
export const meanLogprob = (logprobs: readonly number[]): number | null =>
  logprobs.length === 0 ? null : logprobs.reduce((a, b) => a + b, 0) / logprobs.length

/**
 * The scored rows of a shard: each sample with the raw values of every scorer (`columns[j][i]` is
 * scorer j's value for sample i), the combined result, and which scorers truncated it.
 */
export const scoredRows = (
  samples: readonly SampleRow[],
  scorers: ReadonlyArray<{ readonly name: string; readonly values: readonly number[]; readonly truncated?: readonly boolean[] }>,
  combined: readonly Combined[]
): ScoredRow[] =>
  samples.map(({ logprobs, entropies: _entropies, ...sample }, i) => {
    const truncated = scorers.filter((s) => s.truncated?.[i] === true).map((s) => s.name)
    const { failed, score, passed } = combined[i]!
    return {
      ...sample,
      scores: storedScores(Object.fromEntries(scorers.map((s) => [s.name, s.values[i]!]))),
      score,
      passed,
      ...(failed.length > 0 ? { failed: [...failed] } : {}),
      ...(truncated.length > 0 ? { truncated } : {}),
      logprob_mean: meanLogprob(logprobs)
    }
  })
