import type { Effect } from "effect"
import type { WinnowError } from "../core/errors.js"

/** What a scorer sees of one sample. */
export interface ScoreInput {
  /** The prompt's last user message. */
  readonly prompt: string
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>
  readonly response: string
  readonly reference?: string
  /** Per-token log-probabilities recorded while sampling, when the generator provides them. */
  readonly logprobs?: readonly number[]
  readonly entropies?: readonly number[]
}

/**
 * The one contract every scorer family implements: a name, a version, its resolved
 * configuration (hashed into lineage) and a batched `score`. Higher is better.
 */
export interface Scorer {
  readonly name: string
  readonly type: string
  readonly version: string
  readonly config: Record<string, unknown>
  readonly weight: number
  score(batch: readonly ScoreInput[]): Effect.Effect<number[], WinnowError>
}
