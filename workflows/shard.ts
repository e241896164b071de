import { proxyActivities } from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import type { ShardInput, ShardResult } from "../campaign/contracts.js"
import { httpGenerationProfile, inferenceProfile, storeProfile } from "./profiles.js"

const inference = proxyActivities<Activities>(inferenceProfile)
const store = proxyActivities<Activities>(storeProfile)

/**
 * One shard of one round: generate → score → select → stage; an evaluation shard only generates
 * and scores. Only references cross the history. (Shards recorded before generator backends
 * existed carry no `backend`: they ran locally.)
 */
export async function shardWorkflow(input: ShardInput): Promise<ShardResult> {
  const { backend } = input.spec.generator
  const generation = backend?.type === "openai" ? proxyActivities<Activities>(httpGenerationProfile(backend.max_retries)) : inference
  const samples = await generation.generate(input)
  const scored = await inference.score({ ...input, samples })
  const tokens = samples.tokens ? { tokens: samples.tokens } : {}
  if (input.purpose === "eval") return { shard: input.shard.index, generated: samples.rows, accepted: 0, segment: null, ...tokens }
  const selected = await store.select({ ...input, scored })
  const segment = await store.stage({ ...input, selected })
  return { shard: input.shard.index, generated: samples.rows, accepted: selected.rows, segment, ...tokens }
}
