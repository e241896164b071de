import { Effect } from "effect"
import type { HeuristicScorerSpec } from "../campaign/spec.js"
import type { ScoreInput, Scorer } from "./contract.js"
import { charLength, cjkRatio, distinctN, dominantScript } from "./text.js"

/** Bump when a metric's definition changes; it goes into lineage. */
export const HEURISTIC_VERSION = "1"

const DEFAULT_TARGET_CHARS = 64

/** 1 when the response is written in the prompt's script (Chinese for Chinese prompts, and so on). */
export const languageMatch = (input: ScoreInput): number => {
  const want = dominantScript(input.prompt)
  const got = dominantScript(input.response)
  return got === "none" ? 0 : want === "none" || want === got ? 1 : 0
}

/**
 * Composite quality in [0, 1]: language match × distinct-2 × length adequacy against
 * `targetChars`. Cheap, and the same for Chinese and English text.
 */
export const quality = (input: ScoreInput, targetChars: number): number => {
  const length = charLength(input.response.trim())
  if (length === 0) return 0
  const adequacy = Math.min(1, length / targetChars)
  return languageMatch(input) * distinctN(input.response, 2) * adequacy
}

const metricFn = (spec: HeuristicScorerSpec): ((input: ScoreInput) => number) => {
  const target = spec.target_chars ?? DEFAULT_TARGET_CHARS
  switch (spec.metric) {
    case "quality": return (s) => quality(s, target)
    case "length_chars": return (s) => charLength(s.response)
    case "cjk_ratio": return (s) => cjkRatio(s.response)
    case "distinct_2": return (s) => distinctN(s.response, 2)
    case "language_match": return languageMatch
  }
}

/** Builds a heuristic scorer from its spec; it needs no model and runs on the main thread. */
export const heuristicScorer = (spec: HeuristicScorerSpec): Scorer => {
  const fn = metricFn(spec)
  return {
    name: spec.name,
    type: "heuristic",
    version: HEURISTIC_VERSION,
    weight: spec.weight,
    config: { metric: spec.metric, target_chars: spec.target_chars ?? DEFAULT_TARGET_CHARS },
    score: (batch) => Effect.sync(() => batch.map(fn))
  }
}
