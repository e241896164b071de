import { Schema } from "effect"
import { canonicalJson, sha256 } from "../core/hash.js"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Sha256Hex = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))
const VersionIdString = Schema.String.check(Schema.isPattern(/^[0-9a-f]{16}$/))
const Format = Schema.Literals(["parquet", "jsonl"])

/**
 * A staged segment as returned by `stageSegment`/`listStaged`: the content hash of a segment
 * object (`format` absent means a JSONL segment staged by the first cut), how many records and
 * bytes it holds, and the (campaign, round, shard) it came from.
 */
export const SegmentRef = Schema.Struct({
  hash: Sha256Hex,
  format: Schema.optionalKey(Format),
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
  format: Format,
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

/** What a round produced before the store saw it, when the caller knows (for acceptance rates). */
export const RoundStats = Schema.Struct({
  prompts: NonNegativeInt,
  generated: NonNegativeInt,
  accepted: NonNegativeInt
})
/** What a round produced (see the schema of the same name). */
export type RoundStats = typeof RoundStats.Type

/** A generator's held-out evaluation as a version records it. */
export const EvalLineage = Schema.Struct({
  round: NonNegativeInt,
  model_hash: Schema.String,
  prompts: NonNegativeInt,
  samples: NonNegativeInt,
  pass_at_1: Schema.Finite,
  pass_at_k: Schema.Record(Schema.String, Schema.Finite),
  mean_score: Schema.NullOr(Schema.Finite),
  scores: Schema.Record(Schema.String, Schema.NullOr(Schema.Finite))
})

/**
 * What people decided about a sample of the round's records before it was committed (the
 * campaign's `review` gate): counts, reviewers, and agreement with the discriminator
 * (`agreement`: share of decided records where reviewer and selection agree; `kappa`: Cohen's
 * kappa; `kept_accepted`: share of decided kept records the reviewers kept).
 */
export const ReviewLineage = Schema.Struct({
  sampled: NonNegativeInt,
  kept_sampled: NonNegativeInt,
  decided: NonNegativeInt,
  accepted: NonNegativeInt,
  rejected: NonNegativeInt,
  edited: NonNegativeInt,
  left_out: NonNegativeInt,
  reviewers: Schema.Array(Schema.String),
  agreement: Schema.NullOr(Schema.Finite),
  kappa: Schema.NullOr(Schema.Finite),
  kept_accepted: Schema.NullOr(Schema.Finite),
  outcome: Schema.Literals(["reached", "deadline"])
})
/** A round's review as a version records it (see the schema of the same name). */
export type ReviewLineage = typeof ReviewLineage.Type

/**
 * Where a version came from, as the committer passes it. `commit_key` (e.g. `campaignId/round`)
 * makes commits idempotent: committing a key already present in the chain returns that version.
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
    /** The stored model's id when the generator was trained by the campaign's improve step. */
    model_id: Schema.optionalKey(Schema.String),
    sampling: Schema.Record(Schema.String, Schema.Unknown)
  }),
  scorers: Schema.Array(ScorerLineage),
  selection: Schema.Record(Schema.String, Schema.Unknown),
  winnow_version: Schema.String,
  round_stats: Schema.optionalKey(RoundStats),
  /** The held-out evaluation of the generator that sampled this version's records. */
  eval: Schema.optionalKey(EvalLineage),
  /** Which of the campaign's outputs this version commits (absent: its `output`; k ≥ 1: `outputs[k-1]`), and so which staging. */
  output: Schema.optionalKey(NonNegativeInt),
  /** What reviewers decided before this version was committed (with the campaign's `review` gate). */
  review: Schema.optionalKey(ReviewLineage)
})
/** Where a version came from (see the schema of the same name). */
export type Lineage = typeof Lineage.Type

/** The near-duplicate parameters a commit applied (see `dedupParams.ts`). */
export const NearDupLineage = Schema.Struct({
  threshold: Schema.Finite,
  num_perm: NonNegativeInt,
  bands: NonNegativeInt,
  rows: NonNegativeInt,
  ngram: NonNegativeInt,
  scope: Schema.Literals(["response", "conversation"]),
  seed: NonNegativeInt,
  params_key: Schema.String
})

/** How a commit deduplicated: exact ids always; near-duplicates and decontamination when asked. */
export const DedupLineage = Schema.Struct({
  exact: Schema.Literal("record id = sha256 of content"),
  near: Schema.NullOr(NearDupLineage),
  decontamination: Schema.NullOr(Schema.Struct({ file: Schema.String, file_hash: Sha256Hex, prompts: NonNegativeInt }))
})
/** How a commit deduplicated (see the schema of the same name). */
export type DedupLineage = typeof DedupLineage.Type

/** Lineage as stored in a manifest: what the committer passed plus the dedup the store applied. */
export const ManifestLineage = Schema.Struct({ ...Lineage.fields, dedup: DedupLineage })
/** Lineage as stored in a manifest (see the schema of the same name). */
export type ManifestLineage = typeof ManifestLineage.Type

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

/**
 * Record counts of a version. `records`, `sft`, `dpo` cover the whole version; the rest describe
 * this commit: `staged` rows offered, `added` kept, and why the others were dropped.
 */
export const ManifestCounts = Schema.Struct({
  records: NonNegativeInt,
  sft: NonNegativeInt,
  dpo: NonNegativeInt,
  staged: NonNegativeInt,
  added: NonNegativeInt,
  duplicates_dropped: NonNegativeInt,
  near_duplicates_dropped: NonNegativeInt,
  contaminated_dropped: NonNegativeInt
})
/** Record counts of a version (see the schema of the same name). */
export type ManifestCounts = typeof ManifestCounts.Type

/** The manifest format this code writes. */
export const MANIFEST_FORMAT = "winnow.manifest/2"
/** The first cut's manifest format (JSONL segments, no dedup lineage); read and upgraded in memory. */
export const MANIFEST_FORMAT_V1 = "winnow.manifest/1"

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
  lineage: ManifestLineage
})
/** An immutable dataset version (see the schema of the same name). */
export type Manifest = typeof Manifest.Type

const ManifestV1 = Schema.Struct({
  format: Schema.Literal(MANIFEST_FORMAT_V1),
  dataset: Schema.String,
  sequence: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  parent: Schema.NullOr(VersionIdString),
  created_at: Schema.String,
  segments: Schema.Array(Schema.Struct({ ...SegmentRef.fields, shard: Schema.NullOr(NonNegativeInt) })),
  counts: Schema.Struct({ records: NonNegativeInt, sft: NonNegativeInt, dpo: NonNegativeInt, added: NonNegativeInt, duplicates_dropped: NonNegativeInt }),
  score_stats: Schema.NullOr(ScoreStats),
  lineage: Lineage
})

/** Either manifest format, decoded; format 1 is upgraded to the current shape (see `upgradeV1`). */
export const AnyManifest = Schema.Union([Manifest, ManifestV1])

/**
 * A format-1 manifest in the current shape: its segments are JSONL, nothing was near-deduplicated,
 * `staged` = added + duplicates. The file and its id stay as they are.
 */
export const upgradeManifest = (manifest: typeof AnyManifest.Type): Manifest => {
  if (manifest.format === MANIFEST_FORMAT) return manifest
  return {
    ...manifest,
    format: MANIFEST_FORMAT,
    segments: manifest.segments.map((segment) => ({ ...segment, format: "jsonl" as const })),
    counts: {
      ...manifest.counts,
      staged: manifest.counts.added + manifest.counts.duplicates_dropped,
      near_duplicates_dropped: 0,
      contaminated_dropped: 0
    },
    lineage: { ...manifest.lineage, dedup: { exact: "record id = sha256 of content", near: null, decontamination: null } }
  }
}

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
