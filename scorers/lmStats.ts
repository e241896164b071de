import { Effect } from "effect"
import { LmStatsScorerSpec } from "../campaign/spec.js"
import type { ChatMessage } from "../models/tokenizer.js"
import { variantOf } from "../models/modelDir.js"
import { commonConfig, type ScoreInput, type ScorerFamily } from "./contract.js"

/** Bump when a statistic's definition changes; it goes into lineage. */
export const LM_STATS_VERSION = "1"

type Metric = LmStatsScorerSpec["metric"]

/** A metric from a mean NLL and a mean entropy (nats per token). */
export const metricValue = (metric: Metric, nll: number, entropy: number): number =>
  metric === "nll" ? nll : metric === "perplexity" ? Math.exp(nll) : entropy

const mean = (xs: readonly number[] | undefined): number =>
  xs && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN

/**
 * The metric from what the generator recorded while sampling: the log-probability and the
 * entropy of the model's own (temperature 1, untruncated) distribution at each response token.
 * NaN when nothing was recorded (e.g. an HTTP backend without log-probs).
 */
export const recordedStat = (input: ScoreInput, metric: Metric): number => {
  const nll = -mean(input.logprobs)
  return metricValue(metric, nll, mean(input.entropies))
}

/**
 * Language-model statistics: mean NLL, perplexity or mean token entropy of each response —
 * under `model` given the prompt (teacher forcing in the inference threads, chunked over long
 * texts), or for free from the generator's own per-token log-probs recorded at sampling time.
 * Lower NLL means more fluent under that model: weight it negatively or filter with `max`.
 */
export const lmStatsFamily: ScorerFamily<LmStatsScorerSpec> = {
  type: "lm_stats",
  version: LM_STATS_VERSION,
  schema: LmStatsScorerSpec,
  build: (spec, { pool, field }) => ({
    name: spec.name,
    type: "lm_stats",
    version: LM_STATS_VERSION,
    weight: spec.weight,
    config: spec.model === undefined
      ? { metric: spec.metric, source: "recorded", ...commonConfig(spec) }
      : { metric: spec.metric, source: "model", model: spec.model, ...variantOf(spec), max_length: spec.max_length, ...commonConfig(spec) },
    score: (batch) => {
      if (spec.model === undefined) return Effect.sync(() => ({ values: batch.map((s) => recordedStat(s, spec.metric)) }))
      return pool.lmStats({
        model: spec.model,
        ...variantOf(spec),
        field,
        items: batch.map((s) => ({ messages: s.messages as readonly ChatMessage[], response: s.response })),
        maxLength: spec.max_length,
        batchSize: spec.batch_size
      }).pipe(Effect.map((rows) => ({
        values: rows.map((r) => metricValue(spec.metric, r.nll, r.entropy)),
        truncated: rows.map((r) => r.truncated)
      })))
    }
  })
}
