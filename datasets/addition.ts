import type { DuckDBConnection } from "@duckdb/node-api"
import { writeBandSidecar, type SortedKeys } from "./dedup/bandIndex.js"
import type { EvalSet } from "./dedup/decontaminate.js"
import type { NearDupParams } from "./dedup/dedupParams.js"
import { queryObjects, toNumber, withConnection } from "./duck.js"
import { idAt, markPresent, readIdsColumn, segmentIds, writeIdsSidecar, type PackedIds } from "./dedup/idIndex.js"
import type { StoreLayout } from "./layout.js"
import type { ManifestSegment, ScoreStats, SegmentRef } from "./manifest.js"
import { Decision, sortedBands } from "./dedup/nearDup.js"
import { nearDuplicatePass } from "./dedup/nearDupPass.js"
import { segmentBands } from "./dedup/segmentBands.js"
import { ANSWER_TEXT_SQL, PROMPT_TEXT_SQL, SEGMENT_COLUMNS, segmentsRelation } from "./segmentFormat.js"
import { checkSegment, copyToSegment, ensureLocalSegments, type WrittenSegment } from "./segments.js"
import { formatOf, objectsOf, scoreStatsOf, stagedSource } from "./stagedRows.js"

export { formatOf, scoreStatsOf }

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

const DUPLICATE = 9

/**
 * Builds the segment a commit adds, in DuckDB over the segment files, never holding records
 * in memory: (1) a narrow key table (id, kind, score, source file and row) with one best copy
 * per id among the staged segments, its ids read sorted into a packed buffer (drops are marked
 * by position in it); (2) ids already in the parent version,
 * found through the parent segments' `.ids` sidecars; (3) near-duplicates within the batch and
 * against the parent's `.lsh` sidecars, and contaminated prompts; (4) the kept rows written as
 * one Parquet segment in staged order (staged segments are id-sorted and numbered by hash, so
 * the order is deterministic and sorting by integers is cheap) with its sidecars; (5) kinds and
 * the version's score summary.
 * Staged segments are hash-checked while the key table is built; a mismatch throws
 * `StoreCorrupt` before anything is written.
 */
export const buildAddition = (
  layout: StoreLayout,
  parentSegments: ReadonlyArray<ManifestSegment>,
  newSegments: ReadonlyArray<SegmentRef>,
  plan: DedupPlan
): Promise<Addition> =>
  withConnection(async (db) => {
    await ensureLocalSegments(layout, [...newSegments, ...parentSegments])
    const source = await stagedSource(db, layout, newSegments)
    const checks = Promise.all(newSegments.map((s) => checkSegment(layout, { hash: s.hash, format: formatOf(s), bytes: s.bytes })))
    const keysBuilt = db.run(`CREATE TEMP TABLE keys AS SELECT id, kind, score, src_file, src_row FROM ${source}
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY score DESC, src_file, src_row) = 1`)
      .then(() => undefined, (error: unknown) => error)
    const problem = (await checks).find((p) => p !== undefined)
    const keysError = await keysBuilt
    if (problem) throw problem
    if (keysError) throw keysError
    const stagedCount = toNumber((await queryObjects(db, `SELECT count(*) AS n FROM ${source}`))[0].n)
    const n = toNumber((await queryObjects(db, "SELECT count(*) AS n FROM keys"))[0].n)
    const drop = new Uint8Array(n)
    const newIds = n > 0 ? await readIdsColumn(db, "keys", layout.objectTempDir) : Buffer.alloc(0)
    for (const segment of parentSegments) {
      if (n === 0) break
      const present = new Uint8Array(n)
      markPresent(newIds, await segmentIds(db, layout, { ...segment, format: formatOf(segment) }), present)
      for (let rk = 0; rk < n; rk++) if (present[rk]) drop[rk] = DUPLICATE
    }
    const keptBands = plan.near !== null || plan.evalSet !== null
      ? await dropNearDuplicates(db, layout, source, parentSegments, plan, drop)
      : null
    const counts = await recordDrops(db, drop, newIds, stagedCount - n)
    const kinds = await queryObjects(db, "SELECT kind, count(*) AS n FROM kept GROUP BY kind")
    const kindCount = (kind: string) => toNumber(kinds.find((row) => row.kind === kind)?.n ?? 0)
    const added = kindCount("sft") + kindCount("dpo")
    let segment: WrittenSegment | null = null
    if (added > 0) {
      const select = `SELECT ${SEGMENT_COLUMNS.map(([name]) => `s.${name}`).join(", ")} FROM ${source} s
        SEMI JOIN kept k ON s.src_file = k.src_file AND s.src_row = k.src_row ORDER BY s.src_file, s.src_row`
      segment = await copyToSegment(db, layout, select, added)
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

/**
 * Loads the dropped ids (`drop` is indexed by position in id order, as `ids`) into DuckDB,
 * builds the `kept` table, and counts drops by reason.
 */
const recordDrops = async (db: DuckDBConnection, drop: Uint8Array, ids: PackedIds, stagedDuplicates: number) => {
  const counts = { duplicates: stagedDuplicates, nearDuplicates: 0, contaminated: 0 }
  await db.run("CREATE TEMP TABLE dropped (id VARCHAR)")
  const appender = await db.createAppender("dropped")
  drop.forEach((reason, rk) => {
    if (reason === 0) return
    if (reason === DUPLICATE) counts.duplicates += 1
    else if (reason === Decision.contaminated) counts.contaminated += 1
    else counts.nearDuplicates += 1
    appender.appendVarchar(idAt(ids, rk))
    appender.endRow()
  })
  appender.closeSync()
  await db.run("CREATE TEMP TABLE kept AS SELECT kind, src_file, src_row FROM keys ANTI JOIN dropped USING (id)")
  return counts
}

/**
 * Runs the near-duplicate pass over the candidates not already dropped (joined back to their
 * text), marks near-duplicates and contaminated prompts in `drop` (by id rank), and returns the
 * kept records' sorted band keys for the new segment's sidecar (`null` without near-duplicates).
 */
const dropNearDuplicates = async (
  db: DuckDBConnection,
  layout: StoreLayout,
  source: string,
  parentSegments: ReadonlyArray<ManifestSegment>,
  plan: DedupPlan,
  drop: Uint8Array
): Promise<Array<SortedKeys> | null> => {
  const { decisions, rkOf, keys } = await nearDuplicatePass(db, {
    select: `SELECT k.rk, t.prompt, t.answer
      FROM (SELECT src_file, src_row, ${PROMPT_TEXT_SQL} AS prompt, ${ANSWER_TEXT_SQL} AS answer FROM ${source}) t
      JOIN (SELECT *, (row_number() OVER (ORDER BY id) - 1)::INTEGER AS rk FROM keys) k
      ON t.src_file = k.src_file AND t.src_row = k.src_row ORDER BY k.score DESC, k.id`,
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
