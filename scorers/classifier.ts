import { Effect } from "effect"
import type { ClassifierScorerSpec } from "../campaign/spec.js"
import { inputInvalid } from "../core/errors.js"
import type { InferencePool } from "../models/inferencePool.js"
import type { ScoreInput, Scorer } from "./contract.js"

/** Bump when the scoring rule changes; it goes into lineage. */
export const CLASSIFIER_VERSION = "1"

/**
 * Turns one row of logits into a score: a single logit is the reward itself; with several
 * labels the score is the softmax probability of the chosen label (by index or name; default
 * the last label, e.g. "positive" or the highest grade).
 */
export const scoreFromLogits = (logits: readonly number[], labels: readonly string[], label: number | string | undefined): number => {
  if (logits.length === 1) return logits[0]!
  const index = label === undefined ? logits.length - 1 : typeof label === "number" ? label : labels.indexOf(label)
  const max = Math.max(...logits)
  const exps = logits.map((x) => Math.exp(x - max))
  return exps[index]! / exps.reduce((a, b) => a + b, 0)
}

/** Fills `{prompt}` and `{response}` in a declared text template. */
export const renderTemplate = (template: string, input: ScoreInput): string =>
  template.replaceAll("{prompt}", input.prompt).replaceAll("{response}", input.response)

/**
 * Builds an ONNX sequence-classification scorer. Inputs go through the model's chat template
 * as a (user, assistant) pair, or through `template` when the spec declares one.
 */
export const classifierScorer = (spec: ClassifierScorerSpec, pool: InferencePool["Service"], field: string): Scorer => ({
  name: spec.name,
  type: "classifier",
  version: CLASSIFIER_VERSION,
  weight: spec.weight,
  config: { model: spec.model, label: spec.label ?? null, template: spec.template ?? null, max_length: spec.max_length },
  score: (batch) =>
    Effect.gen(function* () {
      const request = spec.template
        ? { texts: batch.map((s) => renderTemplate(spec.template!, s)) }
        : { texts: [], pairs: batch.map((s) => [s.prompt, s.response] as const) }
      const out = yield* pool.classify({ model: spec.model, field: `${field}.model`, maxLength: spec.max_length, batchSize: spec.batch_size, ...request })
      const { label } = spec
      if (typeof label === "string" && !out.labels.includes(label)) {
        return yield* Effect.fail(inputInvalid("spec", `${field}.label`, label, `one of the model's labels: ${out.labels.join(", ")}`))
      }
      if (typeof label === "number" && label >= out.labels.length && out.labels.length > 1) {
        return yield* Effect.fail(inputInvalid("spec", `${field}.label`, label, `a label index below ${out.labels.length}`))
      }
      return out.logits.map((row) => scoreFromLogits(row, out.labels, label))
    })
})
