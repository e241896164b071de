import { Effect } from "effect"
import { ClassifierScorerSpec } from "../campaign/spec.js"
import { inputInvalid, type InputInvalid } from "../core/errors.js"
import { variantOf } from "../models/modelDir.js"
import { commonConfig, type ScoreInput, type ScorerFamily } from "./contract.js"

/** Bump when the scoring rule changes; it goes into lineage. */
export const CLASSIFIER_VERSION = "2"

/** Softmax of one row of logits. */
export const softmax = (logits: readonly number[]): number[] => {
  const max = Math.max(...logits)
  const exps = logits.map((x) => Math.exp(x - max))
  const total = exps.reduce((a, b) => a + b, 0)
  return exps.map((e) => e / total)
}

/** How a row of logits becomes a score. */
export type LogitReading =
  | { readonly kind: "logit" }
  | { readonly kind: "label"; readonly index: number }
  | { readonly kind: "expected"; readonly values: readonly number[] }

/**
 * Decides how to read the model's logits: a single logit is the reward itself; `label_scores`
 * (label → value) gives the expected value under the softmax, for multi-class and ordinal heads;
 * otherwise the softmax probability of `label` (by index or name; default the last label, e.g.
 * "positive" or the highest grade). Fails naming the field when the model's labels do not fit.
 */
export const logitReading = (spec: Pick<ClassifierScorerSpec, "label" | "label_scores">, labels: readonly string[], field: string): LogitReading | InputInvalid => {
  if (spec.label_scores) {
    const missing = labels.filter((l) => !(l in spec.label_scores!))
    if (missing.length > 0) return inputInvalid("spec", `${field}.label_scores`, spec.label_scores, `a value for every label of the model (missing ${missing.join(", ")}; labels are ${labels.join(", ")})`)
    return { kind: "expected", values: labels.map((l) => spec.label_scores![l]!) }
  }
  if (labels.length === 1) return { kind: "logit" }
  const { label } = spec
  if (label === undefined) return { kind: "label", index: labels.length - 1 }
  const index = typeof label === "number" ? label : labels.indexOf(label)
  if (index < 0 || index >= labels.length) {
    return inputInvalid("spec", `${field}.label`, label, typeof label === "number" ? `a label index below ${labels.length}` : `one of the model's labels: ${labels.join(", ")}`)
  }
  return { kind: "label", index }
}

/** Applies a reading to one row of logits. */
export const readLogits = (logits: readonly number[], reading: LogitReading): number => {
  switch (reading.kind) {
    case "logit": return logits[0]!
    case "label": return softmax(logits)[reading.index]!
    case "expected": return softmax(logits).reduce((sum, p, i) => sum + p * reading.values[i]!, 0)
  }
}

/** Fills `{prompt}` and `{response}` in a declared text template. */
export const renderTemplate = (template: string, input: ScoreInput): string =>
  template.replaceAll("{prompt}", input.prompt).replaceAll("{response}", input.response)

/**
 * ONNX sequence classifiers (reward models, quality classifiers), run in the inference threads
 * with length bucketing. Inputs are the (prompt, response) pair — through the model's chat
 * template, or as a tokenizer text pair for encoders without one — or a declared `template`.
 * Over-long inputs are cut as `truncation` declares, and every cut is reported.
 */
export const classifierFamily: ScorerFamily<ClassifierScorerSpec> = {
  type: "classifier",
  version: CLASSIFIER_VERSION,
  schema: ClassifierScorerSpec,
  build: (spec, { pool, field }) => ({
    name: spec.name,
    type: "classifier",
    version: CLASSIFIER_VERSION,
    weight: spec.weight,
    config: {
      model: spec.model,
      ...variantOf(spec),
      label: spec.label ?? null,
      label_scores: spec.label_scores ?? null,
      template: spec.template ?? null,
      max_length: spec.max_length,
      truncation: spec.truncation,
      ...commonConfig(spec)
    },
    score: (batch) =>
      Effect.gen(function* () {
        const request = spec.template
          ? { texts: batch.map((s) => renderTemplate(spec.template!, s)) }
          : { texts: [], pairs: batch.map((s) => [s.prompt, s.response] as const) }
        const out = yield* pool.classify({ model: spec.model, ...variantOf(spec), field, maxLength: spec.max_length, batchSize: spec.batch_size, truncation: spec.truncation, ...request })
        const reading = logitReading(spec, out.labels, field)
        if ("_tag" in reading) return yield* Effect.fail(reading)
        return { values: out.logits.map((row) => readLogits(row, reading)), truncated: out.truncated }
      })
  })
}
