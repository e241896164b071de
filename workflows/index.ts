/** Every workflow the winnow worker registers. Workflow code only: deterministic, no I/O. */
export { campaignWorkflow, progressQuery } from "./campaign.js"
export { shardWorkflow } from "./shard.js"
