import { createHash, randomUUID } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdir, open, rename, stat, unlink, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { JSDuckDBValueConverter, type DuckDBConnection } from "@duckdb/node-api"
import { StoreCorrupt } from "../core/errors.js"
import { canonicalJson } from "../core/hash.js"
import { openConnection, sqlString, withConnection } from "./duck.js"
import { exists } from "./blobs/fsBlobs.js"
import { isMissing } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { readLegacyRecords } from "./legacySegments.js"
import type { DatasetRecord } from "./record.js"
import { readJsonRows, rowRecord, SEGMENT_COLUMN_LIST, segmentRelation, type SegmentFormat } from "./segmentFormat.js"

/** A segment object as written: its content hash, format, byte size and record count. */
export interface WrittenSegment {
  readonly hash: string
  readonly format: SegmentFormat
  readonly bytes: number
  readonly records: number
}

/** Where a segment lives and what it should hash to; enough to read or check it. */
export interface SegmentObject {
  readonly hash: string
  readonly format: SegmentFormat
  readonly bytes: number
}

/** Byte-order string comparison (code units), the order records take inside a segment. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Parquet options of every segment and export: zstd at level 1 (Arrow's default level; level 3
 * costs ~1.7× the time for ~10% smaller files), DuckDB's default row groups. Part of the byte format.
 */
export const PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"

const newTempPath = async (layout: StoreLayout, suffix: string): Promise<string> => {
  await mkdir(layout.objectTempDir, { recursive: true })
  return join(layout.objectTempDir, `${process.pid}.${randomUUID()}.${suffix}`)
}

/**
 * One copy per id, the best: highest score, then the smallest canonical JSON (so the choice
 * never depends on input order), sorted by id. The order and content of a staged segment.
 */
export const canonicalRecords = (records: ReadonlyArray<DatasetRecord>): Array<DatasetRecord> => {
  const best = new Map<string, DatasetRecord>()
  for (const record of records) {
    const current = best.get(record.id)
    if (!current || record.score > current.score || (record.score === current.score && canonicalJson(record) < canonicalJson(current))) {
      best.set(record.id, record)
    }
  }
  return [...best.values()].sort((a, b) => compareStrings(a.id, b.id))
}

/**
 * Writes staging rows (`stagedRow`, already canonical: unique ids, sorted) as a zstd Parquet
 * segment object. DuckDB's Parquet writer gives the same bytes for the same rows in the same
 * order (checked by a test), so re-staging identical records yields the identical object.
 */
export const writeRowsSegment = async (layout: StoreLayout, rows: ReadonlyArray<string>): Promise<WrittenSegment> => {
  const jsonPath = await newTempPath(layout, "rows.jsonl")
  try {
    await writeFile(jsonPath, rows.length === 0 ? "" : `${rows.join("\n")}\n`)
    return await withConnection((connection) =>
      copyToSegment(connection, layout, `SELECT ${SEGMENT_COLUMN_LIST} FROM ${readJsonRows(jsonPath)}`, rows.length))
  } finally {
    await unlink(jsonPath).catch(() => undefined)
  }
}

/**
 * Runs `select` (rows in segment column order and id order) into a new Parquet segment object:
 * temp file, fsync, hash, rename to its content address (a no-op when it exists).
 */
export const copyToSegment = async (
  connection: DuckDBConnection,
  layout: StoreLayout,
  select: string,
  records: number
): Promise<WrittenSegment> => {
  const temp = await newTempPath(layout, "parquet")
  try {
    await connection.run(`COPY (${select}) TO ${sqlString(temp)} (${PARQUET_OPTIONS})`)
    const { hash, bytes } = await placeObject(layout, temp, "parquet")
    return { hash, format: "parquet", bytes, records }
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/**
 * fsyncs a finished temp file, hashes it and puts it at its content address through the
 * store's backend (`Blobs.placeObject`: a rename, or an upload then a local cached copy). An
 * object that is already there gets a fresh modification time on the filesystem, so `dataset gc`
 * (which spares young files) does not remove it while the stage or commit that reuses it is
 * still writing its pointer; S3 uploads it again, which refreshes its time the same way.
 */
const placeObject = async (layout: StoreLayout, temp: string, format: SegmentFormat): Promise<{ hash: string; bytes: number }> => {
  const handle = await open(temp, "r+")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  const hash = await hashFile(temp)
  const bytes = (await stat(temp)).size
  await layout.blobs.placeObject(temp, layout.objectPath(hash, format))
  return { hash, bytes }
}

const hashFile = async (path: string): Promise<string> => {
  const hasher = createHash("sha256")
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hasher.update(chunk)
  return hasher.digest("hex")
}

/**
 * Streams the records of one segment in id order. With `verify`, the object is re-hashed
 * first and a mismatch throws `StoreCorrupt` before any record is yielded.
 */
export async function* readSegmentRecords(
  layout: StoreLayout,
  segment: SegmentObject,
  options: { readonly verify?: boolean } = {}
): AsyncGenerator<DatasetRecord> {
  if (segment.format === "jsonl") {
    yield* readLegacyRecords(layout.blobs.kind === "fs" ? layout.objectPath(segment.hash, "jsonl") : await localSegmentPath(layout, segment), segment.hash, options)
    return
  }
  if (options.verify) {
    const problem = await checkSegment(layout, segment)
    if (problem) throw problem
  }
  yield* streamRecords(await localSegmentPath(layout, segment), segment.format)
}

/**
 * The local file DuckDB reads for a segment: the object itself on the filesystem, the verified
 * cached copy with S3 (downloaded on first use). A missing object is `StoreCorrupt`.
 */
export const localSegmentPath = async (layout: StoreLayout, segment: { readonly hash: string; readonly format: SegmentFormat }): Promise<string> => {
  const path = layout.objectPath(segment.hash, segment.format)
  const local = await layout.blobs.localObject(path, segment.hash)
  if (local === null) throw new StoreCorrupt({ path: layout.blobs.where(path), reason: "segment object is missing" })
  return local
}

/**
 * Makes every segment readable by DuckDB at its `objectPath` before a query over them: a no-op
 * on the filesystem; with S3, downloads (and hash-checks) those not cached yet.
 */
export const ensureLocalSegments = async (
  layout: StoreLayout,
  segments: ReadonlyArray<{ readonly hash: string; readonly format?: SegmentFormat }>
): Promise<void> => {
  if (layout.blobs.kind === "fs") return
  const unique = new Map(segments.map((s) => [s.hash, { hash: s.hash, format: s.format ?? "jsonl" as const }]))
  for (const segment of unique.values()) await localSegmentPath(layout, segment)
}

/** Streams the records a segment relation yields, one DuckDB chunk at a time. */
export async function* streamRecords(path: string, format: SegmentFormat): AsyncGenerator<DatasetRecord> {
  const names = SEGMENT_COLUMN_LIST.split(", ")
  const connection = await openConnection()
  const unreadable = (error: unknown) => new StoreCorrupt({ path, reason: `unreadable: ${(error as Error).message}` })
  try {
    const result = await connection.stream(`SELECT ${SEGMENT_COLUMN_LIST} FROM ${segmentRelation(path, format)}`).catch((error) => {
      throw unreadable(error)
    })
    for (;;) {
      const chunk = await result.fetchChunk().catch((error) => {
        throw unreadable(error)
      })
      if (chunk === null || chunk.rowCount === 0) return
      for (const row of chunk.convertRows(JSDuckDBValueConverter)) {
        const object: Record<string, unknown> = {}
        names.forEach((name, i) => { object[name] = row[i] })
        yield rowRecord(object)
      }
    }
  } finally {
    connection.closeSync()
  }
}

/**
 * Re-hashes one segment object and checks its size; returns the problem as `StoreCorrupt`,
 * or `undefined` when the bytes match. Never throws for a missing or altered object. With S3
 * the object's size is checked in the bucket and the bytes are those of the local cached copy
 * (downloaded if absent), unless `fresh`, which re-reads the stored bytes themselves (`verify`).
 */
export const checkSegment = async (
  layout: StoreLayout,
  segment: SegmentObject,
  options: { readonly fresh?: boolean } = {}
): Promise<StoreCorrupt | undefined> => {
  const path = layout.objectPath(segment.hash, segment.format)
  if (layout.blobs.kind !== "fs") return checkRemoteSegment(layout, segment, options.fresh ?? false)
  try {
    const info = await stat(path)
    if (info.size !== segment.bytes) {
      return new StoreCorrupt({ path, reason: `size is ${info.size} bytes, manifest says ${segment.bytes}` })
    }
    const actual = await hashFile(path)
    return actual === segment.hash ? undefined : new StoreCorrupt({ path, reason: `content hash is ${actual}` })
  } catch (error) {
    if (isMissing(error)) return new StoreCorrupt({ path, reason: "segment object is missing" })
    throw error
  }
}

const checkRemoteSegment = async (layout: StoreLayout, segment: SegmentObject, fresh: boolean): Promise<StoreCorrupt | undefined> => {
  const path = layout.objectPath(segment.hash, segment.format)
  const where = layout.blobs.where(path)
  const info = await layout.blobs.stat(path)
  if (info === null) return new StoreCorrupt({ path: where, reason: "segment object is missing" })
  if (info.size !== segment.bytes) return new StoreCorrupt({ path: where, reason: `size is ${info.size} bytes, manifest says ${segment.bytes}` })
  if (!fresh && (await exists(path)) && (await hashFile(path)) === segment.hash) return undefined
  await mkdir(layout.objectTempDir, { recursive: true })
  const temp = join(layout.objectTempDir, `${process.pid}.${randomUUID()}.check`)
  try {
    if (!(await layout.blobs.downloadFresh!(path, temp))) return new StoreCorrupt({ path: where, reason: "segment object is missing" })
    const actual = await hashFile(temp)
    if (actual !== segment.hash) {
      await unlink(path).catch(() => undefined)
      return new StoreCorrupt({ path: where, reason: `content hash is ${actual}` })
    }
    await mkdir(dirname(path), { recursive: true })
    await rename(temp, path)
    return undefined
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

