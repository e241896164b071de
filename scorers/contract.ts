import type { Effect, Schema } from "effect"
import type { ScorerSpec } from "../campaign/spec.js"
import type { WinnowError } from "../core/errors.js"
import type { InferencePool } from "../models/inferencePool.js"

/** What a scorer sees of one sample. */
export interface ScoreInput {
  /** The prompt's last user message. */
  readonly prompt: string
  /** The whole conversation the generator answered (system prompt included). */
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>
  readonly response: string
  readonly reference?: string
  /** Which prompt the sample answers; samples of one prompt form a group (pairwise judges compare within it). */
  readonly group?: number
  /** Tokens the generator produced for this response. */
  readonly tokenCount?: number
  /** Per-token log-probabilities recorded while sampling, when the generator provides them. */
  readonly logprobs?: readonly number[]
  readonly entropies?: readonly number[]
}

/** A scorer's output for a batch: one value per input, and which inputs it had to truncate. */
export interface ScoreColumn {
  readonly values: number[]
  /** `truncated[i]` is true when input i was cut to the scorer's declared length. */
  readonly truncated?: readonly boolean[]
}

/**
 * The one contract every scorer family implements: a name, a version, its resolved
 * configuration (hashed into lineage) and a batched `score`. Values are as the scorer defines
 * them (a reward, a probability, a perplexity); selection normalises and weights them, so a
 * statistic where lower is better takes a negative weight or a filter `max`.
 */
export interface Scorer {
  readonly name: string
  readonly type: ScorerSpec["type"]
  readonly version: string
  readonly weight: number
  readonly config: Record<string, unknown>
  score(batch: readonly ScoreInput[]): Effect.Effect<ScoreColumn, WinnowError>
}

/** What building a scorer may use besides its spec. */
export interface ScorerContext {
  readonly pool: InferencePool["Service"]
  /** The spec field path of this scorer, e.g. `scorers[2]`, for error messages. */
  readonly field: string
}

/**
 * A scorer family: its type name, version, the effect Schema of its configuration (the spec's
 * scorer entry) and how to build a scorer from a decoded configuration.
 */
export interface ScorerFamily<S extends ScorerSpec> {
  readonly type: S["type"]
  readonly version: string
  readonly schema: Schema.Top
  readonly build: (spec: S, context: ScorerContext) => Scorer
}

/** The selection-side settings every scorer spec carries, in the lineage configuration of each scorer. */
export const commonConfig = (spec: ScorerSpec): Record<string, unknown> => ({
  weight: spec.weight,
  normalize: spec.normalize,
  filter: spec.filter ?? null
})
