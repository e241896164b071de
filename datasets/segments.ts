import { createHash, randomUUID } from "node:crypto"
import { createReadStream } from "node:fs"
import { access, mkdir, open, rename, stat, unlink } from "node:fs/promises"
import { dirname, join } from "node:path"
import { Schema } from "effect"
import { StoreCorrupt } from "../core/errors.js"
import { sha256 } from "../core/hash.js"
import { fsyncDir, isMissing, writeFileAtomic } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { DatasetRecord, recordLine } from "./record.js"

/** A segment object as written: its content hash, byte size and line count. */
export interface WrittenSegment {
  readonly hash: string
  readonly bytes: number
  readonly records: number
}

/**
 * Encodes records as a segment: one canonical-JSON record per line, sorted by id (ties by
 * line, so equal input always gives equal bytes). Use for segments small enough to sort in memory.
 */
export const encodeSegment = (records: ReadonlyArray<DatasetRecord>): Buffer => {
  const lines = records
    .map((record) => ({ id: record.id, line: recordLine(record) }))
    .sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.line, b.line))
  return Buffer.from(lines.map(({ line }) => `${line}\n`).join(""), "utf8")
}

/** Byte-order string comparison (code units), the order records take inside a segment. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Writes an in-memory segment to its content address; a no-op when the object exists. */
export const writeSegmentObject = async (layout: StoreLayout, bytes: Uint8Array): Promise<WrittenSegment> => {
  const hash = sha256(bytes)
  const path = layout.objectPath(hash)
  if (!(await exists(path))) await writeFileAtomic(path, bytes)
  return { hash, bytes: bytes.byteLength, records: countLines(bytes) }
}

/** Streams lines into a new segment object; the hash is known only at `finish`. */
export interface SegmentWriter {
  readonly write: (line: string) => Promise<void>
  readonly finish: () => Promise<WrittenSegment>
  readonly abort: () => Promise<void>
}

const FLUSH_BYTES = 1 << 20

/**
 * Opens a streaming segment writer: lines go to a temp file under `objects/tmp/` while being
 * hashed; `finish` fsyncs and renames it to its content address (idempotent if it exists).
 * The caller writes lines already in segment order.
 */
export const openSegmentWriter = async (layout: StoreLayout): Promise<SegmentWriter> => {
  await mkdir(layout.objectTempDir, { recursive: true })
  const temp = join(layout.objectTempDir, `${process.pid}.${randomUUID()}.partial`)
  const handle = await open(temp, "wx")
  const hash = createHash("sha256")
  let pending: Array<Buffer> = []
  let pendingBytes = 0
  let bytes = 0
  let records = 0
  const flush = async () => {
    if (pendingBytes === 0) return
    const chunk = Buffer.concat(pending, pendingBytes)
    pending = []
    pendingBytes = 0
    await handle.write(chunk)
  }
  const abort = async () => {
    await handle.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
  }
  return {
    write: async (line) => {
      const chunk = Buffer.from(`${line}\n`, "utf8")
      hash.update(chunk)
      pending.push(chunk)
      pendingBytes += chunk.byteLength
      bytes += chunk.byteLength
      records += 1
      if (pendingBytes >= FLUSH_BYTES) await flush()
    },
    finish: async () => {
      try {
        await flush()
        await handle.sync()
      } catch (error) {
        await abort()
        throw error
      }
      await handle.close()
      const digest = hash.digest("hex")
      const path = layout.objectPath(digest)
      if (await exists(path)) {
        await unlink(temp)
      } else {
        await mkdir(dirname(path), { recursive: true })
        await rename(temp, path)
        await fsyncDir(dirname(path))
      }
      return { hash: digest, bytes, records }
    },
    abort
  }
}

/**
 * Streams the UTF-8 lines of a segment without loading it. With `expectedHash`, hashes the
 * bytes on the way and throws `StoreCorrupt` after the last line if they do not match; a
 * missing object is `StoreCorrupt` too (a manifest points at it).
 */
export async function* readSegmentLines(
  layout: StoreLayout,
  hash: string,
  options: { readonly verify?: boolean } = {}
): AsyncGenerator<string> {
  const path = layout.objectPath(hash)
  const hasher = options.verify ? createHash("sha256") : undefined
  let carry: Buffer | undefined
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hasher?.update(chunk)
      const data = carry ? Buffer.concat([carry, chunk]) : chunk
      let start = 0
      for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
        yield data.toString("utf8", start, newline)
        start = newline + 1
      }
      carry = start < data.length ? data.subarray(start) : undefined
    }
  } catch (error) {
    if (isMissing(error)) throw new StoreCorrupt({ path, reason: "segment object is missing" })
    throw error
  }
  if (carry) yield carry.toString("utf8")
  if (hasher) {
    const actual = hasher.digest("hex")
    if (actual !== hash) throw new StoreCorrupt({ path, reason: `content hash is ${actual}` })
  }
}

const isDatasetRecord = Schema.is(DatasetRecord)

/** Parses one segment line; a line that is not a record means the object is corrupt. */
export const parseRecordLine = (line: string, path: string, lineNumber: number): DatasetRecord => {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new StoreCorrupt({ path, reason: `line ${lineNumber} is not JSON` })
  }
  if (!isDatasetRecord(value)) throw new StoreCorrupt({ path, reason: `line ${lineNumber} is not a record` })
  return value
}

/** Streams the records of one segment, in id order. */
export async function* readSegmentRecords(
  layout: StoreLayout,
  hash: string,
  options: { readonly verify?: boolean } = {}
): AsyncGenerator<DatasetRecord> {
  const path = layout.objectPath(hash)
  let lineNumber = 0
  for await (const line of readSegmentLines(layout, hash, options)) {
    lineNumber += 1
    yield parseRecordLine(line, path, lineNumber)
  }
}

/**
 * Re-hashes one segment object and checks its size; returns the problem as `StoreCorrupt`,
 * or `undefined` when the bytes match. Never throws for a missing or altered object.
 */
export const checkSegment = async (
  layout: StoreLayout,
  segment: { readonly hash: string; readonly bytes: number }
): Promise<StoreCorrupt | undefined> => {
  const path = layout.objectPath(segment.hash)
  try {
    const info = await stat(path)
    if (info.size !== segment.bytes) {
      return new StoreCorrupt({ path, reason: `size is ${info.size} bytes, manifest says ${segment.bytes}` })
    }
    const hasher = createHash("sha256")
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hasher.update(chunk)
    const actual = hasher.digest("hex")
    return actual === segment.hash ? undefined : new StoreCorrupt({ path, reason: `content hash is ${actual}` })
  } catch (error) {
    if (isMissing(error)) return new StoreCorrupt({ path, reason: "segment object is missing" })
    throw error
  }
}

/** True when a segment object exists (used to reject commits of segments never staged). */
export const segmentExists = (layout: StoreLayout, hash: string): Promise<boolean> => exists(layout.objectPath(hash))

const exists = async (path: string): Promise<boolean> => {
  try {
    await access(path)
    return true
  } catch (error) {
    if (isMissing(error)) return false
    throw error
  }
}

const countLines = (bytes: Uint8Array): number => {
  let count = 0
  for (const byte of bytes) if (byte === 10) count += 1
  return count
}
