import { Effect } from "effect"
import type { InputInvalid, NotFound, StoreCorrupt, StoreIoFailed } from "../core/errors.js"
import { scoreStatsOf } from "./addition.js"
import { queryObjects, toNumber, withConnection } from "./duck.js"
import { storeIoOrCorrupt } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { ensureLocalSegments } from "./segments.js"
import type { ScoreStats, Version } from "./manifest.js"
import { segmentsRelation } from "./segmentFormat.js"
import { resolveRef } from "./versions.js"

/** One side of a diff. */
export interface DiffSide {
  readonly ref: string
  readonly id: string
  readonly records: number
  readonly score: ScoreStats | null
}

/** How two versions differ: records added and removed (by id), and how scores moved. */
export interface VersionDiff {
  readonly from: DiffSide
  readonly to: DiffSide
  readonly added: number
  readonly removed: number
  readonly common: number
  /** to − from of the combined score's mean, p50 and p90 (`null` when a side has no scores). */
  readonly scoreShift: { readonly mean: number; readonly p50: number; readonly p90: number } | null
  /** Per-scorer mean on each side and the shift (to − from). */
  readonly scorers: ReadonlyArray<{ readonly name: string; readonly from: number | null; readonly to: number | null; readonly shift: number | null }>
  /** Up to 5 ids of added and of removed records, smallest first. */
  readonly examples: { readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string> }
}

const SOURCE = "datasets.diff"

const relationOf = (layout: StoreLayout, version: Version) =>
  segmentsRelation(version.manifest.segments.map((s) => ({ path: layout.objectPath(s.hash, s.format), format: s.format })))

/**
 * Compares two versions (of one dataset or two) by record id, reading only the id and score
 * columns: counts added/removed/common, the shift of the combined score's summary, and of
 * each scorer's mean.
 */
export const diffVersions = Effect.fn("datasets.diff")(function*(
  layout: StoreLayout,
  fromRef: string,
  toRef: string
): Effect.fn.Return<VersionDiff, InputInvalid | NotFound | StoreIoFailed | StoreCorrupt> {
  const from = yield* resolveRef(layout, SOURCE, fromRef)
  const to = yield* resolveRef(layout, SOURCE, toRef)
  yield* storeIoOrCorrupt(layout.objectsDir, () => ensureLocalSegments(layout, [...from.manifest.segments, ...to.manifest.segments]))
  return yield* storeIoOrCorrupt(layout.objectsDir, () => withConnection(async (db) => {
    const a = relationOf(layout, from)
    const b = relationOf(layout, to)
    const [counts] = await queryObjects(db, `SELECT count(*) FILTER (WHERE a.id IS NULL) AS added, count(*) FILTER (WHERE b.id IS NULL) AS removed,
      count(*) FILTER (WHERE a.id IS NOT NULL AND b.id IS NOT NULL) AS common
      FROM (SELECT id FROM ${a}) a FULL OUTER JOIN (SELECT id FROM ${b}) b ON a.id = b.id`)
    const examples = async (left: string, right: string) =>
      (await queryObjects(db, `SELECT id FROM ${left} ANTI JOIN (SELECT id FROM ${right}) r USING (id) ORDER BY id LIMIT 5`)).map((r) => r.id as string)
    const scorerMeans = async (relation: string) => new Map((await queryObjects(db,
      `SELECT e.key AS name, avg(e.value) AS mean FROM (SELECT unnest(map_entries(scores)) AS e FROM ${relation}) GROUP BY ALL`))
      .map((row) => [row.name as string, row.mean as number]))
    const fromScore = await scoreStatsOf(db, a)
    const toScore = await scoreStatsOf(db, b)
    const fromMeans = await scorerMeans(a)
    const toMeans = await scorerMeans(b)
    const names = [...new Set([...fromMeans.keys(), ...toMeans.keys()])].sort()
    return {
      from: { ref: fromRef, id: from.id, records: from.manifest.counts.records, score: fromScore },
      to: { ref: toRef, id: to.id, records: to.manifest.counts.records, score: toScore },
      added: toNumber(counts.added),
      removed: toNumber(counts.removed),
      common: toNumber(counts.common),
      scoreShift: fromScore && toScore
        ? { mean: toScore.mean - fromScore.mean, p50: toScore.p50 - fromScore.p50, p90: toScore.p90 - fromScore.p90 }
        : null,
      scorers: names.map((name) => {
        const f = fromMeans.get(name) ?? null
        const t = toMeans.get(name) ?? null
        return { name, from: f, to: t, shift: f !== null && t !== null ? t - f : null }
      }),
      examples: { added: await examples(b, a), removed: await examples(a, b) }
    }
  }))
})
