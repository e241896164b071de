import type { Logger } from "pino"
import type { PromptSets } from "../datasets/promptSets.js"
import type { DatasetStore } from "../datasets/store.js"
import type { WorkArea } from "../datasets/workArea.js"
import type { InferencePool } from "../models/inferencePool.js"
import type { ModelStore } from "../models/modelStore.js"
import type { OpenAIBackends } from "../models/openaiBackends.js"

/** What the activities need from the worker's composition root; each is a service the worker owns and closes. */
export interface ActivityDeps {
  readonly pool: InferencePool["Service"]
  readonly backends: OpenAIBackends["Service"]
  readonly store: DatasetStore["Service"]
  readonly work: WorkArea
  readonly models: ModelStore
  readonly prompts: PromptSets
  readonly logger: Logger
  readonly winnowVersion: string
}

/** The activity's logger with the shard's coordinates on every line. */
export const shardLogger = (deps: ActivityDeps, at: { readonly campaignId: string; readonly round: number; readonly shard: { readonly index: number } }): Logger =>
  deps.logger.child({ campaignId: at.campaignId, round: at.round, shard: at.shard.index })
