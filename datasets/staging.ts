import { writeMovingRef } from "./blobs/blobs.js"
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { inputInvalid, StoreCorrupt, type InputInvalid, type StoreIoFailed } from "../core/errors.js"
import { canonicalJson } from "../core/hash.js"
import { storeIo } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { SegmentRef } from "./manifest.js"
import { DatasetRecord, recordId } from "./record.js"
import { isWellFormedRecord } from "./recordCheck.js"
import { stagedRow } from "./segmentFormat.js"
import { canonicalRecords, writeRowsSegment } from "./segments.js"
import { decodeInput, validateCampaignId, validateIndex } from "./validate.js"

/** What a stage activity hands over: the key (campaign, round, shard, output) and the selected records. */
export interface StageInput {
  readonly campaignId: string
  readonly round: number
  readonly shard: number
  /** Which of the campaign's outputs the records are for (0, the default: its `output`; k ≥ 1: `outputs[k-1]`). */
  readonly output?: number
  readonly records: ReadonlyArray<DatasetRecord>
}

const SOURCE = "datasets.stage"
const decodeRecords = decodeInput(Schema.Array(DatasetRecord), SOURCE, "records")

/**
 * Writes one shard's records as a zstd Parquet segment (one best copy per id, sorted by id) and
 * points `staging/<campaign>/r<round>/s<shard>.json` (`r<round>-o<k>/` for output k ≥ 1) at it. Idempotent: the same records give
 * the same bytes, hash and pointer. Re-staging a key with different records moves the pointer
 * (last write wins). Every record must carry the id `recordId` computes from its content.
 */
export const stageSegment = Effect.fn("datasets.stageSegment")(function*(
  layout: StoreLayout,
  input: StageInput
): Effect.fn.Return<SegmentRef, InputInvalid | StoreIoFailed> {
  const campaignId = yield* validateCampaignId(SOURCE, "campaignId", input.campaignId)
  const round = yield* validateIndex(SOURCE, "round", input.round)
  const shard = yield* validateIndex(SOURCE, "shard", input.shard)
  const output = yield* validateIndex(SOURCE, "output", input.output ?? 0)
  const records = Array.isArray(input.records) && input.records.every(isWellFormedRecord)
    ? input.records
    : yield* decodeRecords(input.records)
  const encoded = records.map(stagedRow)
  const badId = records.findIndex((record, i) => record.id !== encoded[i].contentId)
  if (badId !== -1) {
    return yield* inputInvalid(SOURCE, `records[${badId}].id`, records[badId].id,
      `recordId(content) = ${recordId(records[badId])} (build records with makeRecord)`)
  }
  const rowOf = new Map(records.map((record, i) => [record, encoded[i].row] as const))
  const rows = canonicalRecords(records).map((record) => rowOf.get(record)!)
  const written = yield* storeIo(layout.objectsDir, () => writeRowsSegment(layout, rows))
  const ref: SegmentRef = { ...written, round, campaign_id: campaignId, shard }
  const pointer = layout.stagingPointer(campaignId, round, shard, output)
  yield* storeIo(pointer, () => writeMovingRef(layout.blobs, pointer, `${canonicalJson(ref)}\n`))
  return ref
})

const decodeRef = Schema.decodeUnknownEffect(Schema.fromJsonString(SegmentRef))

/** Reads the staged segments of one campaign round (of one of its outputs), sorted by shard; `[]` when none. */
export const listStaged = Effect.fn("datasets.listStaged")(function*(
  layout: StoreLayout,
  campaignId: string,
  round: number,
  output = 0
): Effect.fn.Return<ReadonlyArray<SegmentRef>, InputInvalid | StoreIoFailed | StoreCorrupt> {
  const source = "datasets.listStaged"
  yield* validateCampaignId(source, "campaignId", campaignId)
  yield* validateIndex(source, "round", round)
  yield* validateIndex(source, "output", output)
  const dir = layout.stagingRoundDir(campaignId, round, output)
  const names = (yield* storeIo(dir, () => layout.blobs.list(dir))).filter((name) => /^s\d+\.json$/.test(name))
  const refs = yield* Effect.forEach(names, (name) => {
    const path = join(dir, name)
    return storeIo(path, () => layout.blobs.readText(path)).pipe(
      Effect.flatMap((text) => decodeRef(text ?? "")),
      Effect.mapError((error) =>
        error._tag === "SchemaError" ? new StoreCorrupt({ path: layout.blobs.where(path), reason: error.message }) : error)
    )
  })
  return [...refs].sort((a, b) => a.shard - b.shard)
})
