import type { DuckDBConnection } from "@duckdb/node-api"
import { queryObjects, sqlString, toNumber } from "./duck.js"
import type { StoreLayout } from "./layout.js"
import type { ScoreStats, SegmentRef } from "./manifest.js"
import { SEGMENT_COLUMN_LIST, segmentRelation, segmentsRelation, type SegmentFormat } from "./segmentFormat.js"

/** The format of a staged or committed segment (refs staged by the first cut are JSONL). */
export const formatOf = (segment: { readonly format?: SegmentFormat }): SegmentFormat => segment.format ?? "jsonl"

/** Path and format of each segment, for `segmentsRelation`. */
export const objectsOf = (layout: StoreLayout, segments: ReadonlyArray<{ readonly hash: string; readonly format?: SegmentFormat }>) =>
  segments.map((s) => ({ path: layout.objectPath(s.hash, formatOf(s)), format: formatOf(s) }))

/**
 * SQL over the staged rows with `src_file` and `src_row`, which order equal-scored copies of
 * one id and find rows again: `src_file` is the segment's position among the staged segments
 * sorted by hash (so a pick never depends on the order segments are given in), `src_row` the
 * row number in it. First-cut JSONL segments are loaded into a temp table with their line position.
 */
export const stagedSource = async (db: DuckDBConnection, layout: StoreLayout, segments: ReadonlyArray<SegmentRef>): Promise<string> => {
  const byHash = [...new Map(segments.map((s) => [s.hash, s] as const)).values()].sort((a, b) => (a.hash < b.hash ? -1 : 1))
  if (byHash.length > 0 && byHash.every((s) => formatOf(s) === "parquet")) {
    return `(${byHash.map((s, i) => `SELECT ${SEGMENT_COLUMN_LIST}, ${i} AS src_file, file_row_number AS src_row
      FROM read_parquet(${sqlString(layout.objectPath(s.hash, "parquet"))}, file_row_number = true)`).join(" UNION ALL ")})`
  }
  const parts = byHash.map((s, i) =>
    `SELECT *, ${i} AS src_file, (row_number() OVER ())::BIGINT AS src_row FROM ${segmentRelation(layout.objectPath(s.hash, formatOf(s)), formatOf(s))}`)
  const body = parts.length > 0 ? parts.join(" UNION ALL ") : `SELECT *, 0 AS src_file, 0::BIGINT AS src_row FROM ${segmentsRelation([])}`
  await db.run(`CREATE TEMP TABLE staged_rows AS ${body}`)
  return "staged_rows"
}

/** mean, min, max and nearest-rank p50/p90 of `score` over a relation, in one pass; `null` when empty. */
export const scoreStatsOf = async (db: DuckDBConnection, relation: string): Promise<ScoreStats | null> => {
  const [row] = await queryObjects(db, `SELECT n, mean, lo, hi, sorted[greatest(1, ceil(0.5 * n))::BIGINT] AS p50, sorted[greatest(1, ceil(0.9 * n))::BIGINT] AS p90
    FROM (SELECT count(score) AS n, avg(score) AS mean, min(score) AS lo, max(score) AS hi, list_sort(list(score)) AS sorted FROM ${relation})`)
  if (toNumber(row.n) === 0) return null
  return { mean: row.mean as number, min: row.lo as number, max: row.hi as number, p50: row.p50 as number, p90: row.p90 as number }
}
