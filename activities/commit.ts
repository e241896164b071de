import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import type { CampaignLineage, CommitInput, CommittedVersion } from "../campaign/contracts.js"
import type { WinnowError } from "../core/errors.js"
import type { DedupOptions } from "../datasets/dedup/dedupParams.js"
import { storeIo } from "../datasets/fsio.js"
import type { RoundStats, SegmentRef } from "../datasets/manifest.js"
import type { ActivityDeps } from "./deps.js"

/** The store's dedup options for a spec's `output.dedup` (absent in campaigns prepared before it existed: exact only). */
const storeDedupOf = (dedup: CampaignLineage["dedup"]): DedupOptions => {
  if (dedup === undefined) return {}
  const { near, decontaminate, ...params } = dedup
  return { near: near ? params : null, ...(decontaminate !== undefined ? { decontaminate } : {}) }
}

/**
 * What the round produced before dedup, for the manifest (acceptance rate on the dataset card):
 * samples generated = rows of the scored work files of the staged shards, accepted = staged records.
 */
const roundStatsOf = (deps: ActivityDeps, input: CommitInput, segments: ReadonlyArray<SegmentRef>) =>
  Effect.forEach(segments, (segment) => {
    const path = deps.work.shardFile(input.campaignId, input.round, segment.shard, "scored")
    return storeIo(path, async () => {
      const bytes = await readFile(path).catch(() => Buffer.alloc(0))
      let rows = 0
      for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) rows++
      return rows
    })
  }).pipe(Effect.map((generated): RoundStats => ({
    prompts: input.lineage.prompts.count,
    generated: generated.reduce((a, b) => a + b, 0),
    accepted: segments.reduce((sum, segment) => sum + segment.records, 0)
  })))

/**
 * Commits every segment staged for (campaign, round, output) as one new dataset version.
 * Idempotent: the commit key is (campaign, round, output), so a retry returns the version
 * already committed.
 */
export const commit = (deps: ActivityDeps) => (input: CommitInput): Effect.Effect<CommittedVersion, WinnowError> =>
  Effect.gen(function* () {
    const output = input.output ?? 0
    const segments = yield* deps.store.listStaged(input.campaignId, input.round, output)
    const { scorers, selection } = input.lineage
    const generator = input.generator === undefined
      ? input.lineage.generator
      : { ...input.lineage.generator, model: input.generator.path, model_hash: input.generator.model_hash, ...(input.generator.model_id ? { model_id: input.generator.model_id } : {}) }
    const roundStats = yield* roundStatsOf(deps, input, segments)
    const version = yield* deps.store.commit({
      dataset: input.dataset,
      segments,
      lineage: {
        campaign_id: input.campaignId,
        workflow_id: input.workflowId,
        run_id: input.runId,
        round: input.round,
        commit_key: output === 0 ? `${input.campaignId}/r${input.round}` : `${input.campaignId}/r${input.round}/o${output}`,
        generator,
        scorers: scorers.map((s) => ({ ...s, config: s.config as Record<string, unknown> })),
        selection,
        winnow_version: deps.winnowVersion,
        round_stats: roundStats,
        ...(input.eval ? { eval: input.eval } : {}),
        ...(output > 0 ? { output } : {}),
        ...(input.review && output === 0 ? { review: input.review } : {})
      },
      dedup: storeDedupOf(input.lineage.dedup)
    })
    deps.logger.info({ dataset: input.dataset, version: version.id, records: version.manifest.counts.records }, "committed version")
    return {
      version: version.id,
      sequence: version.manifest.sequence,
      records: version.manifest.counts.records,
      added: version.manifest.counts.added
    }
  })
