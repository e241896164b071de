import { Effect } from "effect"
import type { CampaignSpec } from "../campaign/spec.js"
import { inputInvalid, type WinnowError } from "../core/errors.js"
import { httpSeed, type Seed128 } from "../core/seeds.js"
import { DEFAULT_ECHO_TEMPLATE, echoSamples } from "../models/echoGenerator.js"
import type { SampleText } from "../models/localGenerator.js"
import { variantOf } from "../models/modelDir.js"
import type { ChatMessage } from "../models/tokenizer.js"
import type { ActivityDeps } from "./deps.js"

/** One prompt to sample: a conversation (or raw text to continue, local models only) and one seed per sample. */
export interface SamplingRequest {
  readonly messages: readonly ChatMessage[]
  readonly text?: string
  readonly seeds: readonly Seed128[]
}

/**
 * Samples responses from the spec's generator: the local ONNX model in the inference pool, the
 * OpenAI-compatible server `generator.backend` names, or the model-free echo. Shared by the activities that sample
 * (generate, the prompt stage); not an activity itself.
 */
export const sampleFromGenerator = (
  deps: ActivityDeps,
  generator: CampaignSpec["generator"],
  requests: readonly SamplingRequest[],
  maxNewTokens = generator.max_new_tokens
): Effect.Effect<SampleText[], WinnowError> => {
  const params = {
    temperature: generator.temperature,
    top_k: generator.top_k,
    top_p: generator.top_p,
    min_p: generator.min_p,
    repetition_penalty: generator.repetition_penalty,
    max_new_tokens: maxNewTokens,
    ...(generator.stop ? { stop: generator.stop } : {})
  }
  const { backend, model } = generator
  if (backend.type === "echo") {
    return Effect.sync(() => echoSamples(requests.map((r) => ({ messages: r.messages, samples: r.seeds.length })), backend.template ?? DEFAULT_ECHO_TEMPLATE, maxNewTokens))
  }
  if (backend.type === "openai") {
    return deps.backends.get(backend).pipe(Effect.flatMap((server) =>
      server.generate(requests.map((r) => ({ messages: r.messages, seeds: r.seeds.map(httpSeed) })), params)))
  }
  if (model === undefined) return Effect.fail(inputInvalid("spec", "generator.model", undefined, "a value (this field is required)"))
  return deps.pool.generate({ model, ...variantOf(generator), prompts: requests, params })
}
