import { Effect } from "effect"
import { VerifierScorerSpec } from "../campaign/spec.js"
import { inputInvalid } from "../core/errors.js"
import { answersMatch, extractAnswer } from "./answer.js"
import { chainIsRight } from "./arithmeticChain.js"
import { commonConfig, type ScoreInput, type ScorerFamily } from "./contract.js"
import { compileJsonSchema, type CompiledSchema, extractJson } from "../core/jsonSchema.js"

/** Bump when a check's definition changes; it goes into lineage. */
export const VERIFIER_VERSION = "1"

/** 1 when the response's final answer matches the prompt's reference; `missing` when there is no reference. */
export const answerMatchScore = (input: ScoreInput, spec: Pick<VerifierScorerSpec, "match" | "tolerance" | "missing_reference">): number => {
  if (input.reference === undefined) return spec.missing_reference === "pass" ? 1 : 0
  const answer = extractAnswer(input.response)
  return answer !== undefined && answersMatch(answer, input.reference, spec.match, spec.tolerance) ? 1 : 0
}

/** 1 when the response holds JSON that conforms to the schema. */
export const jsonSchemaScore = (input: ScoreInput, schema: CompiledSchema): number => {
  const json = extractJson(input.response)
  return json.ok && schema.validate(json.value) ? 1 : 0
}

/**
 * Verifiers: exact checks that give 1 or 0. `answer_match` compares the extracted final answer
 * with the prompt record's `reference` (numerically or exactly); `json_schema` checks JSON
 * conformance. Generated code is never executed. Usually declared as a hard filter.
 */
export const verifierFamily: ScorerFamily<VerifierScorerSpec> = {
  type: "verifier",
  version: VERIFIER_VERSION,
  schema: VerifierScorerSpec,
  build: (spec, context) => ({
    name: spec.name,
    type: "verifier",
    version: VERIFIER_VERSION,
    weight: spec.weight,
    config: spec.check !== "json_schema"
      ? { check: spec.check, match: spec.match, tolerance: spec.tolerance, missing_reference: spec.missing_reference, ...commonConfig(spec) }
      : { check: spec.check, schema: spec.schema, ...commonConfig(spec) },
    score: (batch) => {
      if (spec.check === "answer_match") return Effect.sync(() => ({ values: batch.map((s) => answerMatchScore(s, spec)) }))
      if (spec.check === "arithmetic_chain") {
        return Effect.sync(() => ({ values: batch.map((s) => (answerMatchScore(s, spec) === 1 && chainIsRight(s.prompt, s.response) ? 1 : 0)) }))
      }
      return Effect.try({
        try: () => compileJsonSchema(spec.schema ?? {}),
        catch: (e) => inputInvalid("spec", `${context.field}.schema`, spec.schema, `a valid JSON Schema (${(e as Error).message})`)
      }).pipe(Effect.map((schema) => ({ values: batch.map((s) => jsonSchemaScore(s, schema)) })))
    }
  })
}
