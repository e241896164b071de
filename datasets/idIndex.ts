import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import type { DuckDBConnection } from "@duckdb/node-api"
import { streamColumns } from "./duck.js"
import { writeFileAtomic } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { segmentRelation } from "./segmentFormat.js"
import type { SegmentObject } from "./segments.js"

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

/** Packs hex record ids (already sorted) into one buffer. */
export const packIds = (ids: ReadonlyArray<string>): PackedIds => {
  const out = Buffer.alloc(ids.length * ID_BYTES)
  ids.forEach((id, i) => out.write(id, i * ID_BYTES, "hex"))
  return out
}

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
  const body = await readIdsColumn(connection, segmentRelation(layout.objectPath(segment.hash, segment.format), segment.format))
  await writeIdsSidecar(layout, segment.hash, body)
  return body
}

/**
 * Reads the ids of a relation, sorted, into a packed buffer. DuckDB concatenates them per
 * 3-hex-digit prefix (4096 groups, each sorted, groups in order), so the JS side decodes a few
 * thousand hex strings instead of converting a million values.
 */
export const readIdsColumn = async (connection: DuckDBConnection, relation: string): Promise<PackedIds> => {
  const parts: Array<Buffer> = []
  const sql = `SELECT left(id, 3) AS g, string_agg(id, '' ORDER BY id) AS ids FROM ${relation} GROUP BY g ORDER BY g`
  for await (const chunk of streamColumns(connection, sql)) {
    for (const hex of chunk.columns[1] as ReadonlyArray<string>) parts.push(Buffer.from(hex, "hex"))
  }
  return Buffer.concat(parts)
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
