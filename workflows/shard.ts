import type { ShardInput, ShardResult } from "../campaign/contracts.js"
import { stageOutputs } from "./outputs.js"
import { activitiesOf } from "./queues.js"

/**
 * One shard of one round: generate → score → select → stage, then select → stage for each of the
 * spec's `outputs` from the same scored samples; an evaluation shard only generates and scores.
 * Only references cross the history. Each kind of work goes to its queue (`task_queues`).
 */
export async function shardWorkflow(input: ShardInput): Promise<ShardResult> {
  const { generation, scoring, store } = activitiesOf(input.spec)
  const samples = await generation.generate(input)
  const scored = await scoring.score({ ...input, samples })
  const tokens = samples.tokens ? { tokens: samples.tokens } : {}
  if (input.purpose === "eval") return { shard: input.shard.index, generated: samples.rows, accepted: 0, segment: null, ...tokens }
  const selected = await store.select({ ...input, scored })
  const segment = await store.stage({ ...input, selected })
  const outputs = await stageOutputs(store, input, scored)
  return { shard: input.shard.index, generated: samples.rows, accepted: selected.rows, segment, ...tokens, ...(outputs ? { outputs } : {}) }
}
