import { sqlString } from "../duck.js"
import type { StoreLayout } from "../layout.js"
import type { Version } from "../manifest.js"
import { SEGMENT_COLUMN_LIST, segmentRelation, segmentsRelation, type SegmentFormat } from "../segmentFormat.js"

/**
 * Per-row provenance of an export. A version id is the hash of its manifest, so no record can
 * carry the id of the version that adds it; it is known once that version exists. A version
 * holds its parent's segments plus at most one new one, so the version that added a row is the
 * first version of the lineage whose segments list the row's segment.
 */

/** One segment of an exported version, and the version that added it. */
export interface SegmentOrigin {
  readonly path: string
  readonly format: SegmentFormat
  /** Id of the first version of the chain whose segments list this one. */
  readonly addedIn: string
  /** The campaign that committed that version. */
  readonly campaign: string
  /** The weights hash (or served model's hash) of the generator that sampled that version's records. */
  readonly generator: string
}

/**
 * Where each segment of `chain[0]` came from, in its manifest's order. `chain` is the version's
 * lineage, newest first (`datasetChainFrom`). Use to build `provenanceRelation`.
 */
export const segmentOrigins = (layout: StoreLayout, chain: ReadonlyArray<Version>): SegmentOrigin[] => {
  const first = new Map<string, Version>()
  for (const version of [...chain].reverse()) {
    for (const segment of version.manifest.segments) if (!first.has(segment.hash)) first.set(segment.hash, version)
  }
  const head = chain[0]
  if (head === undefined) return []
  return head.manifest.segments.map((segment) => {
    const origin = first.get(segment.hash) ?? head
    return {
      path: layout.objectPath(segment.hash, segment.format),
      format: segment.format,
      addedIn: origin.id,
      campaign: origin.manifest.lineage.campaign_id,
      generator: origin.manifest.lineage.generator.model_hash
    }
  })
}

/** `meta.review.<field>` of a row as text, '' when the record was not reviewed. */
const reviewText = (field: string): string => `coalesce(json_extract_string(meta, '$.review.${field}'), '')`

/**
 * The `review` member of `provenance`: what a person decided about the record at the campaign's
 * review gate (`decision` accept or edit, `reviewer`, `at`, `edited`); empty strings and false
 * when nobody reviewed it (never null, like the rest of `provenance`).
 */
const REVIEW_STRUCT = `{'decision': ${reviewText("decision")}, 'reviewer': ${reviewText("reviewer")}, 'at': ${reviewText("at")}, ` +
  `'edited': coalesce(TRY_CAST(json_extract(meta, '$.review.edited') AS BOOLEAN), false)}`

/** The `provenance` struct of a row whose segment's origin is given by the SQL expressions. */
const provenanceStruct = (campaign: string, generator: string, addedIn: string): string =>
  `{'campaign': ${campaign}, 'round': round, 'generator': ${generator}, 'added_in': ${addedIn}, 'review': ${REVIEW_STRUCT}} AS provenance`

/** `CASE filename WHEN <path> THEN <value> … END` over the segments. */
const byFile = (origins: ReadonlyArray<SegmentOrigin>, value: (origin: SegmentOrigin) => string): string =>
  `CASE filename ${origins.map((o) => `WHEN ${sqlString(o.path)} THEN ${sqlString(value(o))}`).join(" ")} END`

/**
 * SQL relation over the segments in the order given, with the segment columns plus `provenance`:
 * `{campaign, round, generator, added_in, review}` (never null, so JSON readers type it the same in
 * every export). Use in place of `segmentsRelation` where rows leave the store.
 */
export const provenanceRelation = (origins: ReadonlyArray<SegmentOrigin>): string => {
  if (origins.length === 0) {
    return `(SELECT *, ${provenanceStruct("''", "''", "''")} FROM ${segmentsRelation([])})`
  }
  if (origins.every((o) => o.format === "parquet")) {
    const files = origins.map((o) => sqlString(o.path)).join(", ")
    const struct = provenanceStruct(byFile(origins, (o) => o.campaign), byFile(origins, (o) => o.generator), byFile(origins, (o) => o.addedIn))
    return `(SELECT ${SEGMENT_COLUMN_LIST}, ${struct} FROM read_parquet([${files}], filename = true))`
  }
  return `(${origins.map((o) =>
    `SELECT *, ${provenanceStruct(sqlString(o.campaign), sqlString(o.generator), sqlString(o.addedIn))} FROM ${segmentRelation(o.path, o.format)}`
  ).join(" UNION ALL ")})`
}
