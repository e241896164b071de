import { Schema } from "effect"
import { canonicalJson, sha256 } from "../core/hash.js"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Sha256Hex = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))
const VersionIdString = Schema.String.check(Schema.isPattern(/^[0-9a-f]{16}$/))

/**
 * A staged segment as returned by `stageSegment`/`listStaged`: the content hash of a JSONL
 * object, how many records and bytes it holds, and the (campaign, round, shard) it came from.
 */
export const SegmentRef = Schema.Struct({
  hash: Sha256Hex,
  records: NonNegativeInt,
  bytes: NonNegativeInt,
  round: NonNegativeInt,
  campaign_id: Schema.String,
  shard: NonNegativeInt
})
/** A staged segment (see the schema of the same name). */
export type SegmentRef = typeof SegmentRef.Type

/**
 * A segment inside a manifest. A commit merges its staged segments into one deduplicated
 * segment; `shard` is the source shard when exactly one was committed, otherwise `null`.
 */
export const ManifestSegment = Schema.Struct({
  ...SegmentRef.fields,
  shard: Schema.NullOr(NonNegativeInt)
})
/** A segment inside a manifest (see the schema of the same name). */
export type ManifestSegment = typeof ManifestSegment.Type

/** One scorer as it ran: enough to reproduce or compare its numbers. */
export const ScorerLineage = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  config_hash: Schema.String,
  config: Schema.Record(Schema.String, Schema.Unknown)
})

/**
 * Where a version came from. `commit_key` (e.g. `campaignId/round`) makes commits idempotent:
 * committing a key already present in the dataset's chain returns that version.
 */
export const Lineage = Schema.Struct({
  campaign_id: Schema.String,
  workflow_id: Schema.String,
  run_id: Schema.String,
  round: NonNegativeInt,
  commit_key: Schema.NonEmptyString,
  generator: Schema.Struct({
    model: Schema.String,
    model_hash: Schema.String,
    sampling: Schema.Record(Schema.String, Schema.Unknown)
  }),
  scorers: Schema.Array(ScorerLineage),
  selection: Schema.Record(Schema.String, Schema.Unknown),
  winnow_version: Schema.String
})
/** Where a version came from (see the schema of the same name). */
export type Lineage = typeof Lineage.Type

/** Summary of the combined score over all records of a version (nearest-rank percentiles). */
export const ScoreStats = Schema.Struct({
  mean: Schema.Finite,
  min: Schema.Finite,
  max: Schema.Finite,
  p50: Schema.Finite,
  p90: Schema.Finite
})
/** Summary of the combined score (see the schema of the same name). */
export type ScoreStats = typeof ScoreStats.Type

/** Record counts of a version; `added` and `duplicates_dropped` describe this commit only. */
export const ManifestCounts = Schema.Struct({
  records: NonNegativeInt,
  sft: NonNegativeInt,
  dpo: NonNegativeInt,
  added: NonNegativeInt,
  duplicates_dropped: NonNegativeInt
})
/** Record counts of a version (see the schema of the same name). */
export type ManifestCounts = typeof ManifestCounts.Type

/** The manifest format this code writes and reads. */
export const MANIFEST_FORMAT = "winnow.manifest/1"

/**
 * An immutable dataset version: its segments (parent's plus at most one new one), counts,
 * score statistics (`null` for an empty version) and lineage. Its id is its content hash.
 */
export const Manifest = Schema.Struct({
  format: Schema.Literal(MANIFEST_FORMAT),
  dataset: Schema.String,
  sequence: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  parent: Schema.NullOr(VersionIdString),
  created_at: Schema.String,
  segments: Schema.Array(ManifestSegment),
  counts: ManifestCounts,
  score_stats: Schema.NullOr(ScoreStats),
  lineage: Lineage
})
/** An immutable dataset version (see the schema of the same name). */
export type Manifest = typeof Manifest.Type

/** A manifest together with its id; what `resolve`, `log` and `commit` return. */
export interface Version {
  readonly id: string
  readonly manifest: Manifest
}

/** The content address of a manifest: first 16 hex chars of sha256 of its canonical JSON. */
export const versionIdOf = (manifest: unknown): string => sha256(canonicalJson(manifest)).slice(0, 16)

/** The file text of a manifest: canonical key order, indented so people can read it. */
export const manifestText = (manifest: Manifest): string =>
  `${JSON.stringify(JSON.parse(canonicalJson(manifest)), null, 2)}\n`
