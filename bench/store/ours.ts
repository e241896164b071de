import { createReadStream } from "node:fs"
import { Effect } from "effect"
import { formatOf } from "../../datasets/addition.js"
import { resolveNearParams } from "../../datasets/dedup/dedupParams.js"
import { withConnection } from "../../datasets/duck.js"
import type { Lineage, SegmentRef, Version } from "../../datasets/manifest.js"
import { Decision } from "../../datasets/dedup/nearDup.js"
import { nearDuplicatePass } from "../../datasets/dedup/nearDupPass.js"
import type { DatasetRecord } from "../../datasets/record.js"
import { ANSWER_TEXT_SQL, PROMPT_TEXT_SQL, segmentsRelation } from "../../datasets/segmentFormat.js"
import type { DatasetStoreApi } from "../../datasets/store.js"

/** winnow's side of the store benchmark: the store's own code paths, timed. */

const lineage = (round: number): Lineage => ({
  campaign_id: "bench", workflow_id: "bench-wf", run_id: "bench-run", round, commit_key: `bench/${round}`,
  generator: { model: "synthetic", model_hash: "none", sampling: {} },
  scorers: [{ name: "reward", version: "1", config_hash: "x", config: {} }],
  selection: { policy: "best_of_n" },
  winnow_version: "bench"
})

/** Streams the records of a JSONL file in batches (the shards an activity would stage). */
export async function* recordBatches(path: string, size: number): AsyncGenerator<Array<DatasetRecord>> {
  let batch: Array<DatasetRecord> = []
  let carry = ""
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 22 })) {
    const lines = (carry + chunk).split("\n")
    carry = lines.pop() ?? ""
    for (const line of lines) {
      if (line.length === 0) continue
      batch.push(JSON.parse(line) as DatasetRecord)
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
  }
  if (carry.length > 0) batch.push(JSON.parse(carry) as DatasetRecord)
  if (batch.length > 0) yield batch
}

/**
 * Stage: parse the records and stage them shard by shard as a shard activity would (two
 * shards in flight, as concurrent shard activities are). Returns the staged segments.
 */
export const stageRecords = async (store: DatasetStoreApi, path: string, shardSize: number, inFlight = 2): Promise<Array<SegmentRef>> => {
  const segments: Array<Promise<SegmentRef>> = []
  let shard = 0
  for await (const batch of recordBatches(path, shardSize)) {
    if (segments.length >= inFlight) await segments[segments.length - inFlight]
    segments.push(Effect.runPromise(store.stageSegment({ campaignId: "bench", round: 1, shard: shard++, records: batch })))
  }
  return Promise.all(segments)
}

/** Commit: the round-end commit of the staged segments as one version (exact dedup by id). */
export const commitStaged = (store: DatasetStoreApi, dataset: string, segments: ReadonlyArray<SegmentRef>): Promise<Version> =>
  Effect.runPromise(store.commit({ dataset, segments, lineage: lineage(1) }))

/**
 * Near-duplicate detection over a committed version, as a commit runs it: stream prompt and
 * answer best first from the segments, MinHash + LSH, clusters keep their best record.
 * Returns the ids of the records it would drop.
 */
export const nearDuplicates = async (store: DatasetStoreApi, version: Version, threshold: number): Promise<Set<string>> => {
  const near = resolveNearParams({ threshold })
  const relation = segmentsRelation(version.manifest.segments.map((s) => ({ path: `${store.root}/objects/${s.hash.slice(0, 2)}/${s.hash}.${formatOf(s)}`, format: formatOf(s) })))
  return withConnection(async (db) => {
    await db.run(`CREATE TEMP TABLE ranked AS SELECT (row_number() OVER (ORDER BY id) - 1)::INTEGER AS rk, id, score, ${PROMPT_TEXT_SQL} AS prompt, ${ANSWER_TEXT_SQL} AS answer FROM ${relation}`)
    const n = version.manifest.counts.records
    const { decisions, rkOf } = await nearDuplicatePass(db, {
      select: "SELECT rk, prompt, answer FROM ranked ORDER BY score DESC, id",
      slots: n,
      skip: () => false,
      near,
      hashing: near,
      evalSet: null,
      earlier: () => []
    })
    const dropped = new Set<number>()
    decisions.forEach((decision, slot) => {
      if (decision !== Decision.keep) dropped.add(rkOf[slot])
    })
    const ids = new Set<string>()
    const reader = await db.runAndReadAll("SELECT rk, id FROM ranked ORDER BY rk")
    const [rks, idColumn] = reader.getColumns() as [Array<number>, Array<string>]
    rks.forEach((rk, i) => {
      if (dropped.has(rk)) ids.add(idColumn[i])
    })
    return ids
  })
}

/** Export: the version as TRL SFT rows in one zstd Parquet file. */
export const exportParquet = (store: DatasetStoreApi, dataset: string, out: string) =>
  Effect.runPromise(store.pull({ ref: dataset, format: "parquet", schema: "sft", out }))
