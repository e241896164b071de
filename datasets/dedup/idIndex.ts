import { createHash, randomUUID } from "node:crypto"
import { mkdir, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import type { DuckDBConnection } from "@duckdb/node-api"
import { sqlString } from "../duck.js"
import { writeFileAtomic } from "../fsio.js"
import type { StoreLayout } from "../layout.js"
import { segmentRelation } from "../segmentFormat.js"
import type { SegmentObject } from "../segments.js"

/**
 * The record-id index of a segment: its ids, sorted, as raw 32-byte sha256 values in a
 * `.ids` sidecar (32 bytes per record instead of the whole record). A commit checks its new
 * ids against these files instead of re-reading earlier segments. Sidecars are derived data:
 * a missing or damaged one is rebuilt from its (hash-checked) segment.
 */

const MAGIC = "winnow.ids/1\n"
const ID_BYTES = 32

/** Sorted ids (n × 32 bytes) as a packed buffer. */
export type PackedIds = Buffer

/** Writes the sidecar of segment `hash`: magic, JSON header (segment, count, sha256 of body), body. */
export const writeIdsSidecar = async (layout: StoreLayout, hash: string, body: PackedIds): Promise<void> => {
  const header = { segment: hash, count: body.length / ID_BYTES, sha256: createHash("sha256").update(body).digest("hex") }
  await writeFileAtomic(layout.idsPath(hash), Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), body]))
}

const readIdsSidecar = async (layout: StoreLayout, hash: string, records: number): Promise<PackedIds | null> => {
  let data: Buffer
  try {
    data = await readFile(layout.idsPath(hash))
  } catch {
    return null
  }
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return null
  const newline = data.indexOf(10, MAGIC.length)
  if (newline === -1) return null
  let header: { segment?: unknown; count?: unknown; sha256?: unknown }
  try {
    header = JSON.parse(data.toString("utf8", MAGIC.length, newline))
  } catch {
    return null
  }
  const body = data.subarray(newline + 1)
  if (header.segment !== hash || header.count !== records || body.length !== records * ID_BYTES) return null
  return createHash("sha256").update(body).digest("hex") === header.sha256 ? body : null
}

/**
 * The sorted ids of a segment: from its sidecar, or read from the segment (and the sidecar
 * rewritten) when the sidecar is missing or damaged.
 */
export const segmentIds = async (
  connection: DuckDBConnection,
  layout: StoreLayout,
  segment: SegmentObject & { readonly records: number }
): Promise<PackedIds> => {
  const cached = await readIdsSidecar(layout, segment.hash, segment.records)
  if (cached) return cached
  const body = await readIdsColumn(connection, segmentRelation(layout.objectPath(segment.hash, segment.format), segment.format), layout.objectTempDir)
  await writeIdsSidecar(layout, segment.hash, body)
  return body
}

/**
 * Reads the ids of a relation, sorted, into a packed buffer. DuckDB sorts them and writes them
 * as text to a temp file (`tempDir`), and the JS side decodes that file in one go instead of
 * converting a million values one by one.
 */
export const readIdsColumn = async (connection: DuckDBConnection, relation: string, tempDir: string): Promise<PackedIds> => {
  await mkdir(tempDir, { recursive: true })
  const path = join(tempDir, `${process.pid}.${randomUUID()}.ids.txt`)
  try {
    await connection.run(`COPY (SELECT id FROM ${relation} ORDER BY id) TO ${sqlString(path)} (FORMAT csv, HEADER false, QUOTE '')`)
    const text = await readFile(path, "latin1")
    return Buffer.from(text.replaceAll("\n", ""), "hex")
  } finally {
    await rm(path, { force: true })
  }
}

/** The hex id at position `index` of a packed buffer. */
export const idAt = (ids: PackedIds, index: number): string => ids.toString("hex", index * ID_BYTES, (index + 1) * ID_BYTES)

const compareAt = (a: Buffer, i: number, b: Buffer, j: number): number =>
  a.compare(b, j * ID_BYTES, (j + 1) * ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES)

/**
 * Marks `present[i]` for every id of `sorted` (packed, ascending) that appears in `other`
 * (packed, ascending). Merges when the lists are of similar size, binary-searches the smaller
 * one into the larger otherwise.
 */
export const markPresent = (sorted: PackedIds, other: PackedIds, present: Uint8Array): void => {
  const n = sorted.length / ID_BYTES
  const m = other.length / ID_BYTES
  if (m * 16 < n) {
    for (let j = 0; j < m; j++) {
      let low = 0
      let high = n - 1
      while (low <= high) {
        const mid = (low + high) >> 1
        const order = compareAt(sorted, mid, other, j)
        if (order === 0) {
          present[mid] = 1
          break
        }
        if (order < 0) low = mid + 1
        else high = mid - 1
      }
    }
    return
  }
  let j = 0
  for (let i = 0; i < n && j < m; i++) {
    let order = compareAt(sorted, i, other, j)
    while (order > 0 && ++j < m) order = compareAt(sorted, i, other, j)
    if (order === 0) present[i] = 1
  }
}
