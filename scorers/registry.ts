import type { ScorerSpec } from "../campaign/spec.js"
import type { ScorerWeighting } from "../campaign/combine.js"
import type { InferencePool } from "../models/inferencePool.js"
import { classifierFamily } from "./classifier.js"
import type { Scorer, ScorerFamily } from "./contract.js"
import { heuristicFamily } from "./heuristic.js"
import { judgeFamily } from "./judge.js"
import { lmStatsFamily } from "./lmStats.js"
import { verifierFamily } from "./verifier.js"

/** Every scorer family by its spec `type`; the spec's scorer union and this table name the same types. */
export const SCORER_FAMILIES: { readonly [T in ScorerSpec["type"]]: ScorerFamily<Extract<ScorerSpec, { type: T }>> } = {
  classifier: classifierFamily,
  heuristic: heuristicFamily,
  lm_stats: lmStatsFamily,
  verifier: verifierFamily,
  judge: judgeFamily
}

/** Builds one scorer from its spec; `field` is its spec path (e.g. `scorers[1]`) for error messages. */
export const buildScorer = (spec: ScorerSpec, pool: InferencePool["Service"], field: string): Scorer =>
  (SCORER_FAMILIES[spec.type] as ScorerFamily<ScorerSpec>).build(spec, { pool, field })

/** Builds the scorers a spec names, in spec order. */
export const buildScorers = (specs: readonly ScorerSpec[], pool: InferencePool["Service"]): Scorer[] =>
  specs.map((spec, i) => buildScorer(spec, pool, `scorers[${i}]`))

/** What combination needs of each scorer spec: weight, normalisation and filter bounds. */
export const weightingOf = (specs: readonly ScorerSpec[]): ScorerWeighting[] =>
  specs.map((s) => ({ name: s.name, weight: s.weight, normalize: s.normalize, ...(s.filter ? { filter: s.filter } : {}) }))
