import { Schema } from "effect"
import type { InputIssue } from "../core/errors.js"
import { compileJsonSchema } from "../core/jsonSchema.js"
import { DEFAULTS } from "../core/defaults.js"
import { int, NonEmpty, NonNegative, OnnxVariant, withDefault } from "./specFields.js"


/** How a scorer's values are normalised within each prompt's group before weighting. */
export const NORMALIZATIONS = ["raw", "zscore", "rank"] as const

/** A hard filter: the scorer's value must lie within [min, max]; it gates samples and does not rank them. */
export const FilterSpec = Schema.Struct({
  min: Schema.optionalKey(Schema.Finite),
  max: Schema.optionalKey(Schema.Finite)
})

const scorerCommon = {
  name: NonEmpty.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9_.-]+$/u))),
  weight: Schema.Finite.pipe(withDefault(DEFAULTS.scorer.weight)),
  normalize: Schema.Literals(NORMALIZATIONS).pipe(withDefault(DEFAULTS.scorer.normalize)),
  filter: Schema.optionalKey(FilterSpec)
}

/**
 * An ONNX sequence-classification scorer (reward model or quality classifier; encoder or
 * decoder export). One logit is the score; with several labels the score is the probability of
 * `label`, or the expected value of `label_scores` (label → value) under the softmax.
 */
export const ClassifierScorerSpec = Schema.Struct({
  ...scorerCommon,
  type: Schema.Literal("classifier"),
  model: NonEmpty,
  variant: Schema.optionalKey(OnnxVariant),
  label: Schema.optionalKey(Schema.Union([int(0, 100_000), NonEmpty])),
  label_scores: Schema.optionalKey(Schema.Record(Schema.String, Schema.Finite)),
  template: Schema.optionalKey(NonEmpty),
  max_length: int(8, 1_000_000).pipe(withDefault(DEFAULTS.scorer.max_length)),
  truncation: Schema.Literals(["right", "left", "error"]).pipe(withDefault(DEFAULTS.scorer.truncation)),
  batch_size: int(1, 4096).pipe(withDefault(DEFAULTS.scorer.batch_size))
})

/** Metrics the heuristic scorer can compute; each is right for Chinese as well as English. */
export const HEURISTIC_METRICS = [
  "quality", "length_chars", "length_tokens", "cjk_ratio", "distinct_n", "distinct_2", "repetition",
  "language_match", "punctuation_width", "regex", "json_valid"
] as const

/** A heuristic scorer: a cheap text statistic or format check. */
export const HeuristicScorerSpec = Schema.Struct({
  ...scorerCommon,
  type: Schema.Literal("heuristic"),
  metric: Schema.Literals(HEURISTIC_METRICS).pipe(withDefault(DEFAULTS.heuristic.metric)),
  target_chars: Schema.optionalKey(int(1, 1_000_000)),
  n: Schema.optionalKey(int(1, 16)),
  pattern: Schema.optionalKey(NonEmpty),
  flags: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isPattern(/^[imsu]*$/u))))
})

/** Language-model statistics of a response. */
export const LM_STATS_METRICS = ["nll", "perplexity", "entropy"] as const

/**
 * Mean token NLL, perplexity or mean token entropy of the response. With `model`, under that
 * causal LM given the prompt (chunked forward passes); without it, from the generator's own
 * per-token log-probs recorded while sampling, which cost nothing.
 */
export const LmStatsScorerSpec = Schema.Struct({
  ...scorerCommon,
  type: Schema.Literal("lm_stats"),
  metric: Schema.Literals(LM_STATS_METRICS).pipe(withDefault(DEFAULTS.lmStats.metric)),
  model: Schema.optionalKey(NonEmpty),
  variant: Schema.optionalKey(OnnxVariant),
  max_length: int(8, 1_000_000).pipe(withDefault(DEFAULTS.lmStats.max_length)),
  batch_size: int(1, 4096).pipe(withDefault(DEFAULTS.lmStats.batch_size))
})

/** What a verifier checks. */
export const VERIFIER_CHECKS = ["answer_match", "json_schema", "arithmetic_chain"] as const

/**
 * A verifier: 1 when the response is right, 0 otherwise. `answer_match` extracts the final
 * answer (`\boxed{}`, "答案是", "The answer is", "####", last number) and compares it with the
 * prompt's `reference`; `json_schema` checks the response's JSON against `schema`;
 * `arithmetic_chain` also checks the worked steps of a left-to-right `+`/`−` problem (every
 * `a ± b = c` right and chained as the prompt's expression calls for) besides the final answer.
 */
export const VerifierScorerSpec = Schema.Struct({
  ...scorerCommon,
  type: Schema.Literal("verifier"),
  check: Schema.Literals(VERIFIER_CHECKS),
  match: Schema.Literals(["numeric", "exact"]).pipe(withDefault(DEFAULTS.verifier.match)),
  tolerance: NonNegative.pipe(withDefault(DEFAULTS.verifier.tolerance)),
  schema: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  missing_reference: Schema.Literals(["fail", "pass"]).pipe(withDefault(DEFAULTS.verifier.missing_reference))
})

/**
 * LLM-as-judge on a local causal LM. Pointwise: the expected rating from the probabilities of
 * the rating tokens after the rubric, in one forward pass. Pairwise: every pair of a prompt's
 * samples is judged in both orders; a verdict that flips with the order is a tie; the score is
 * the win rate.
 */
export const JudgeScorerSpec = Schema.Struct({
  ...scorerCommon,
  type: Schema.Literal("judge"),
  model: NonEmpty,
  variant: Schema.optionalKey(OnnxVariant),
  mode: Schema.Literals(["pointwise", "pairwise"]).pipe(withDefault(DEFAULTS.judge.mode)),
  rubric: Schema.optionalKey(NonEmpty),
  answer_prefix: Schema.optionalKey(Schema.String),
  ratings: Schema.Array(NonEmpty).pipe(Schema.check(Schema.isMinLength(2)), withDefault([...DEFAULTS.judge.ratings])),
  rating_values: Schema.optionalKey(Schema.Array(Schema.Finite)),
  verdicts: Schema.Tuple([NonEmpty, NonEmpty]).pipe(withDefault([...DEFAULTS.judge.verdicts] as [string, string])),
  max_length: int(8, 1_000_000).pipe(withDefault(DEFAULTS.judge.max_length)),
  batch_size: int(1, 4096).pipe(withDefault(DEFAULTS.judge.batch_size))
})

/** The scorer types a spec can name. */
export const SCORER_TYPES = ["classifier", "heuristic", "lm_stats", "verifier", "judge"] as const

/** One scorer of a campaign. */
export const ScorerSpec = Schema.Union([ClassifierScorerSpec, HeuristicScorerSpec, LmStatsScorerSpec, VerifierScorerSpec, JudgeScorerSpec])
export type ScorerSpec = typeof ScorerSpec.Type
export type ClassifierScorerSpec = typeof ClassifierScorerSpec.Type
export type HeuristicScorerSpec = typeof HeuristicScorerSpec.Type
export type LmStatsScorerSpec = typeof LmStatsScorerSpec.Type
export type VerifierScorerSpec = typeof VerifierScorerSpec.Type
export type JudgeScorerSpec = typeof JudgeScorerSpec.Type

/**
 * Checks across fields that the schema cannot express: unique names, filters with a bound,
 * a regex that compiles, a schema for `json_schema`, one value per judge rating.
 */
export const scorerIssues = (scorers: readonly ScorerSpec[]): InputIssue[] => {
  const issues: InputIssue[] = []
  const names = new Map<string, number>()
  scorers.forEach((s, i) => {
    const at = `scorers[${i}]`
    const first = names.get(s.name)
    if (first !== undefined) issues.push({ path: `${at}.name`, value: s.name, expected: `a name no other scorer uses (scorers[${first}] has it)` })
    else names.set(s.name, i)
    if (s.filter && s.filter.min === undefined && s.filter.max === undefined) issues.push({ path: `${at}.filter`, value: s.filter, expected: "at least one of min or max" })
    if (s.filter?.min !== undefined && s.filter.max !== undefined && s.filter.min > s.filter.max) issues.push({ path: `${at}.filter`, value: s.filter, expected: "min no larger than max" })
    if (s.type === "heuristic" && s.metric === "regex") {
      if (s.pattern === undefined) issues.push({ path: `${at}.pattern`, value: undefined, expected: "a regular expression (metric regex needs one)" })
      else {
        try {
          new RegExp(s.pattern, s.flags ?? "u")
        } catch (e) {
          issues.push({ path: `${at}.pattern`, value: s.pattern, expected: `a valid regular expression (${(e as Error).message})` })
        }
      }
    }
    if (s.type === "verifier" && s.check === "json_schema") {
      if (s.schema === undefined) issues.push({ path: `${at}.schema`, value: undefined, expected: "a JSON Schema object (check json_schema needs one)" })
      else {
        try {
          compileJsonSchema(s.schema)
        } catch (e) {
          issues.push({ path: `${at}.schema`, value: s.schema, expected: `a valid JSON Schema (${(e as Error).message})` })
        }
      }
    }
    if (s.type === "lm_stats" && s.variant !== undefined && s.model === undefined) {
      issues.push({ path: `${at}.variant`, value: s.variant, expected: "no variant without a model (the recorded statistics come from the generator)" })
    }
    if (s.type === "judge" && s.rating_values !== undefined && s.rating_values.length !== s.ratings.length) {
      issues.push({ path: `${at}.rating_values`, value: s.rating_values, expected: `one value per rating (${s.ratings.length})` })
    }
    if (s.type === "classifier" && s.label !== undefined && s.label_scores !== undefined) {
      issues.push({ path: `${at}.label_scores`, value: s.label_scores, expected: "either label or label_scores, not both" })
    }
  })
  return issues
}
