import { Effect } from "effect"
import { DEFAULTS } from "../core/defaults.js"
import { yieldToEventLoop } from "../core/eventLoop.js"
import { HeuristicScorerSpec } from "../campaign/spec.js"
import { commonConfig, type ScoreInput, type ScorerFamily } from "./contract.js"
import { extractJson } from "../core/jsonSchema.js"
import { charLength, cjkRatio, detectLanguage, distinctN, punctuationWidthConsistency, repetitionRatio } from "../core/text.js"

/** Bump when a metric's definition changes; it goes into lineage. */
export const HEURISTIC_VERSION = "2"

/** Samples a heuristic scorer scores between two turns of the event loop. */
const SLICE = 2_000

/** `detectLanguage` remembering its last answer: the N samples of a prompt come together and share its prompt. */
const lastLanguage = (): ((text: string) => ReturnType<typeof detectLanguage>) => {
  let text: string | undefined
  let language: ReturnType<typeof detectLanguage> = "none"
  return (next) => {
    if (next !== text) {
      text = next
      language = detectLanguage(next)
    }
    return language
  }
}

/**
 * 1 when the response is written in the prompt's language as far as script tells (Chinese for
 * Chinese prompts, Japanese for Japanese, Latin-script for English…), 0 otherwise or when empty.
 */
export const languageMatch = (input: ScoreInput, promptLanguage: (prompt: string) => ReturnType<typeof detectLanguage> = detectLanguage): number => {
  const got = detectLanguage(input.response)
  if (got === "none") return 0
  const want = promptLanguage(input.prompt)
  return want === "none" || want === got ? 1 : 0
}

/**
 * Composite quality in [0, 1]: language match × distinct-2 × length adequacy against
 * `targetChars`. Cheap, and the same for Chinese and English text.
 */
export const quality = (input: ScoreInput, targetChars: number, promptLanguage: (prompt: string) => ReturnType<typeof detectLanguage> = detectLanguage): number => {
  const length = charLength(input.response.trim())
  if (length === 0) return 0
  const adequacy = Math.min(1, length / targetChars)
  return languageMatch(input, promptLanguage) * distinctN(input.response, 2) * adequacy
}

/** 1 when the response (or the JSON inside a ```json fence) parses as JSON, 0 otherwise. */
export const jsonValid = (response: string): number => (extractJson(response).ok ? 1 : 0)

/** The function computing one metric of a heuristic spec. */
export const metricFunction = (spec: HeuristicScorerSpec): ((input: ScoreInput) => number) => {
  const target = spec.target_chars ?? DEFAULTS.heuristic.target_chars
  const promptLanguage = lastLanguage()
  switch (spec.metric) {
    case "quality": return (s) => quality(s, target, promptLanguage)
    case "length_chars": return (s) => charLength(s.response)
    case "length_tokens": return (s) => s.tokenCount ?? Number.NaN
    case "cjk_ratio": return (s) => cjkRatio(s.response)
    case "distinct_n": return (s) => distinctN(s.response, spec.n ?? DEFAULTS.heuristic.n)
    case "distinct_2": return (s) => distinctN(s.response, 2)
    case "repetition": return (s) => repetitionRatio(s.response, spec.n ?? DEFAULTS.heuristic.repetition_n)
    case "language_match": return (s) => languageMatch(s, promptLanguage)
    case "punctuation_width": return (s) => punctuationWidthConsistency(s.response)
    case "regex": {
      const pattern = new RegExp(spec.pattern ?? "", spec.flags ?? "u")
      return (s) => (pattern.test(s.response) ? 1 : 0)
    }
    case "json_valid": return (s) => jsonValid(s.response)
  }
}

/** The configuration of a heuristic scorer as it goes into lineage (only the fields its metric reads). */
const heuristicConfig = (spec: HeuristicScorerSpec): Record<string, unknown> => {
  const config: Record<string, unknown> = { metric: spec.metric, ...commonConfig(spec) }
  if (spec.metric === "quality") config.target_chars = spec.target_chars ?? DEFAULTS.heuristic.target_chars
  if (spec.metric === "distinct_n") config.n = spec.n ?? DEFAULTS.heuristic.n
  if (spec.metric === "repetition") config.n = spec.n ?? DEFAULTS.heuristic.repetition_n
  if (spec.metric === "regex") Object.assign(config, { pattern: spec.pattern, flags: spec.flags ?? "u" })
  return config
}

/**
 * Heuristic scorers: text statistics and format checks that need no model and run on the
 * activity's thread — lengths (characters; tokens as the generator counted them), CJK ratio,
 * distinct-n and repetition over CJK characters or words, language match, punctuation width,
 * regex and JSON validity. Scores a batch in slices, giving the event loop a turn between them.
 */
export const heuristicFamily: ScorerFamily<HeuristicScorerSpec> = {
  type: "heuristic",
  version: HEURISTIC_VERSION,
  schema: HeuristicScorerSpec,
  build: (spec) => {
    const fn = metricFunction(spec)
    return {
      name: spec.name,
      type: "heuristic",
      version: HEURISTIC_VERSION,
      weight: spec.weight,
      config: heuristicConfig(spec),
      score: (batch) => Effect.gen(function* () {
        const values: number[] = []
        for (let from = 0; from < batch.length; from += SLICE) {
          if (from > 0) yield* yieldToEventLoop
          for (const input of batch.slice(from, from + SLICE)) values.push(fn(input))
        }
        return { values }
      })
    }
  }
}
