import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import { Schema } from "effect"
import { StoreCorrupt } from "../core/errors.js"
import { isMissing } from "./fsio.js"
import { DatasetRecord } from "./record.js"

/**
 * Reading JSONL segments written by the first cut of the store (one canonical-JSON record per
 * line, sorted by id). They are never written any more; versions that reference them stay
 * readable, exportable and verifiable, and new commits on top of them write Parquet.
 */

const isDatasetRecord = Schema.is(DatasetRecord)

/** Parses one JSONL segment line; a line that is not a record means the object is corrupt. */
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

/**
 * Streams the records of a JSONL segment without loading it. With `verify`, hashes the bytes
 * on the way and throws `StoreCorrupt` after the last line if they do not match `hash`.
 */
export async function* readLegacyRecords(
  path: string,
  hash: string,
  options: { readonly verify?: boolean } = {}
): AsyncGenerator<DatasetRecord> {
  const hasher = options.verify ? createHash("sha256") : undefined
  let carry: Buffer | undefined
  let lineNumber = 0
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hasher?.update(chunk)
      const data = carry ? Buffer.concat([carry, chunk]) : chunk
      let start = 0
      for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
        lineNumber += 1
        yield parseRecordLine(data.toString("utf8", start, newline), path, lineNumber)
        start = newline + 1
      }
      carry = start < data.length ? data.subarray(start) : undefined
    }
  } catch (error) {
    if (isMissing(error)) throw new StoreCorrupt({ path, reason: "segment object is missing" })
    throw error
  }
  if (carry) yield parseRecordLine(carry.toString("utf8"), path, lineNumber + 1)
  if (hasher) {
    const actual = hasher.digest("hex")
    if (actual !== hash) throw new StoreCorrupt({ path, reason: `content hash is ${actual}` })
  }
}
