import type { DuckDBConnection } from "@duckdb/node-api"
import { writeBandSidecar, type SortedKeys } from "./bandIndex.js"
import type { EvalSet } from "./decontaminate.js"
import type { NearDupParams } from "./dedupParams.js"
import { queryObjects, sqlStringList, toNumber, withConnection } from "./duck.js"
import { markPresent, readIdsColumn, segmentIds, writeIdsSidecar } from "./idIndex.js"
import type { StoreLayout } from "./layout.js"
import type { ManifestSegment, ScoreStats, SegmentRef } from "./manifest.js"
import { Decision, sortedBands } from "./nearDup.js"
import { nearDuplicatePass } from "./nearDupPass.js"
import { segmentBands } from "./segmentBands.js"
import { ANSWER_TEXT_SQL, PROMPT_TEXT_SQL, SEGMENT_COLUMN_LIST, segmentsRelation, type SegmentFormat } from "./segmentFormat.js"
import { checkSegment, copyToSegment, type WrittenSegment } from "./segments.js"

/** How a commit deduplicates: near-duplicate parameters and evaluation set, each optional. */
export interface DedupPlan {
  readonly near: NearDupParams | null
  /** Parameters used to hash prompts for decontamination (the near ones, or defaults). */
  readonly hashing: NearDupParams
  readonly evalSet: EvalSet | null
}

/** What one commit adds on top of its parent, and the whole version's score summary. */
export interface Addition {
  readonly segment: WrittenSegment | null
  readonly staged: number
  readonly sft: number
  readonly dpo: number
  readonly duplicates: number
  readonly nearDuplicates: number
  readonly contaminated: number
  readonly scoreStats: ScoreStats | null
}

/** The format of a staged or committed segment (refs staged by the first cut are JSONL). */
export const formatOf = (segment: { readonly format?: SegmentFormat }): SegmentFormat => segment.format ?? "jsonl"

const objectsOf = (layout: StoreLayout, segments: ReadonlyArray<{ readonly hash: string; readonly format?: SegmentFormat }>) =>
  segments.map((s) => ({ path: layout.objectPath(s.hash, formatOf(s)), format: formatOf(s) }))

/**
 * Builds the segment a commit adds, in DuckDB over the segment files, never holding records
 * in memory: (1) one best copy per id among the staged segments; (2) ids already in the parent
 * version, found through the parent segments' `.ids` sidecars; (3) near-duplicates within the
 * batch and against the parent's `.lsh` sidecars, and contaminated prompts; (4) the rest
 * written as one id-sorted Parquet segment with its sidecars; (5) kinds and score summary.
 * Staged segments are hash-checked first; a mismatch throws `StoreCorrupt`.
 */
export const buildAddition = (
  layout: StoreLayout,
  parentSegments: ReadonlyArray<ManifestSegment>,
  newSegments: ReadonlyArray<SegmentRef>,
  plan: DedupPlan
): Promise<Addition> =>
  withConnection(async (db) => {
    for (const segment of newSegments) {
      const problem = await checkSegment(layout, { hash: segment.hash, format: formatOf(segment), bytes: segment.bytes })
      if (problem) throw problem
    }
    const staged = segmentsRelation(objectsOf(layout, newSegments))
    await db.run(`CREATE TEMP TABLE cand AS
      SELECT ${SEGMENT_COLUMN_LIST}, (row_number() OVER (ORDER BY id) - 1)::INTEGER AS rk FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.id ORDER BY s.score DESC, ${tieBreak(newSegments)}) AS pick FROM ${sourceOf(layout, newSegments)} s
      ) WHERE pick = 1`)
    const stagedCount = toNumber((await queryObjects(db, `SELECT count(*) AS n FROM ${staged}`))[0].n)
    const n = toNumber((await queryObjects(db, "SELECT count(*) AS n FROM cand"))[0].n)
    const drop = new Uint8Array(n)
    const newIds = n > 0 ? await readIdsColumn(db, "cand") : Buffer.alloc(0)
    for (const segment of parentSegments) {
      if (n === 0) break
      const present = new Uint8Array(n)
      markPresent(newIds, await segmentIds(db, layout, { ...segment, format: formatOf(segment) }), present)
      for (let rk = 0; rk < n; rk++) if (present[rk]) drop[rk] = DUPLICATE
    }
    const keptBands = plan.near !== null || plan.evalSet !== null
      ? await dropNearDuplicates(db, layout, parentSegments, plan, drop)
      : null
    const counts = { duplicates: stagedCount - n, nearDuplicates: 0, contaminated: 0 }
    await db.run("CREATE TEMP TABLE dropped (rk INTEGER)")
    const appender = await db.createAppender("dropped")
    for (let rk = 0; rk < n; rk++) {
      const reason = drop[rk]
      if (reason === 0) continue
      if (reason === DUPLICATE) counts.duplicates += 1
      else if (reason === Decision.contaminated) counts.contaminated += 1
      else counts.nearDuplicates += 1
      appender.appendInteger(rk)
      appender.endRow()
    }
    appender.closeSync()
    const kept = `SELECT ${SEGMENT_COLUMN_LIST} FROM cand ANTI JOIN dropped USING (rk) ORDER BY id`
    const kinds = await queryObjects(db, `SELECT kind, count(*) AS n FROM cand ANTI JOIN dropped USING (rk) GROUP BY kind`)
    const kindCount = (kind: string) => toNumber(kinds.find((row) => row.kind === kind)?.n ?? 0)
    const added = kindCount("sft") + kindCount("dpo")
    let segment: WrittenSegment | null = null
    if (added > 0) {
      segment = await copyToSegment(db, layout, kept, added)
      const keptIds = Buffer.alloc(added * 32)
      let at = 0
      for (let rk = 0; rk < n; rk++) {
        if (drop[rk] !== 0) continue
        newIds.copy(keptIds, at * 32, rk * 32, rk * 32 + 32)
        at += 1
      }
      await writeIdsSidecar(layout, segment.hash, keptIds)
      if (keptBands !== null && plan.near !== null) {
        await writeBandSidecar(layout.lshPath(segment.hash, plan.near.params_key), { segment: segment.hash, params_key: plan.near.params_key }, keptBands)
      }
    }
    const all = [...parentSegments, ...(segment ? [segment] : [])]
    return {
      segment,
      staged: stagedCount,
      sft: kindCount("sft"),
      dpo: kindCount("dpo"),
      ...counts,
      scoreStats: await scoreStatsOf(db, segmentsRelation(objectsOf(layout, all)))
    }
  })

const DUPLICATE = 9

/**
 * The staged rows with what orders equal-scored copies of one id: for Parquet, the segment file
 * (named by its hash) and row number, so the pick never depends on the order segments are given
 * in; for first-cut JSONL segments, the whole row as text.
 */
const allParquet = (segments: ReadonlyArray<SegmentRef>): boolean =>
  segments.length > 0 && segments.every((s) => formatOf(s) === "parquet")

const sourceOf = (layout: StoreLayout, segments: ReadonlyArray<SegmentRef>): string =>
  allParquet(segments)
    ? `read_parquet(${sqlStringList(segments.map((s) => layout.objectPath(s.hash, "parquet")))}, filename = true, file_row_number = true)`
    : segmentsRelation(objectsOf(layout, segments))

const tieBreak = (segments: ReadonlyArray<SegmentRef>): string =>
  allParquet(segments) ? "s.filename, s.file_row_number" : "CAST(s AS VARCHAR)"

/**
 * Runs the near-duplicate pass over the candidates not already dropped, marks near-duplicates
 * and contaminated prompts in `drop` (by id rank), and returns the kept records' sorted band
 * keys for the new segment's sidecar (`null` without near-duplicate detection).
 */
const dropNearDuplicates = async (
  db: DuckDBConnection,
  layout: StoreLayout,
  parentSegments: ReadonlyArray<ManifestSegment>,
  plan: DedupPlan,
  drop: Uint8Array
): Promise<Array<SortedKeys> | null> => {
  const { decisions, rkOf, keys } = await nearDuplicatePass(db, {
    select: `SELECT rk, ${PROMPT_TEXT_SQL} AS prompt, ${ANSWER_TEXT_SQL} AS answer FROM cand ORDER BY score DESC, id`,
    slots: drop.reduce((count, reason) => count + (reason === 0 ? 1 : 0), 0),
    skip: (rk) => drop[rk] !== 0,
    near: plan.near,
    hashing: plan.hashing,
    evalSet: plan.evalSet,
    earlier: (keyer) => parentSegments.map((segment) => () => segmentBands(db, layout, { ...segment, format: formatOf(segment) }, keyer))
  })
  decisions.forEach((decision, slot) => {
    if (decision !== Decision.keep) drop[rkOf[slot]] = decision
  })
  return keys && plan.near ? sortedBands(keys, plan.near.bands, (slot) => decisions[slot] === Decision.keep) : null
}

/** mean, min, max and nearest-rank p50/p90 of `score` over a relation; `null` when empty. */
export const scoreStatsOf = async (db: DuckDBConnection, relation: string): Promise<ScoreStats | null> => {
  const [summary] = await queryObjects(db, `SELECT count(score) AS n, avg(score) AS mean, min(score) AS min, max(score) AS max FROM ${relation}`)
  const n = toNumber(summary.n)
  if (n === 0) return null
  const rank = async (p: number) => {
    const [row] = await queryObjects(db, `SELECT score FROM ${relation} ORDER BY score LIMIT 1 OFFSET ${Math.max(0, Math.ceil(p * n) - 1)}`)
    return row.score as number
  }
  return { mean: summary.mean as number, min: summary.min as number, max: summary.max as number, p50: await rank(0.5), p90: await rank(0.9) }
}
