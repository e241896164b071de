import type { ScorerSpec } from "../campaign/spec.js"
import type { InferencePool } from "../models/inferencePool.js"
import { classifierScorer } from "./classifier.js"
import type { Scorer } from "./contract.js"
import { heuristicScorer } from "./heuristic.js"

/** Builds the scorers a spec names, in spec order. */
export const buildScorers = (specs: readonly ScorerSpec[], pool: InferencePool["Service"]): Scorer[] =>
  specs.map((spec, i) => {
    switch (spec.type) {
      case "classifier": return classifierScorer(spec, pool, `scorers[${i}]`)
      case "heuristic": return heuristicScorer(spec)
    }
  })

/** Weighted sum of a sample's scores, in scorer order. */
export const combineScores = (scorers: readonly Scorer[], values: readonly number[]): number =>
  scorers.reduce((sum, scorer, i) => sum + scorer.weight * values[i]!, 0)
