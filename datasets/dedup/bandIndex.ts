import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { writeFileAtomic } from "../fsio.js"

/**
 * Sorted LSH band keys: the in-memory form used to compare a commit's records with each other
 * and with earlier segments, and the `.lsh-<params>` sidecar that keeps an earlier segment's
 * keys so a commit never re-reads old records. A band's keys are 64-bit, held as parallel
 * `hi`/`lo` uint32 arrays sorted by (hi, lo).
 */

/** One band's keys, sorted by (hi, lo). */
export interface SortedKeys {
  readonly hi: Uint32Array
  readonly lo: Uint32Array
}

const RADIX = 1 << 16

const radixPass = (keys: Uint32Array, shift: number, from: Int32Array, to: Int32Array, offset: number): void => {
  const counts = new Int32Array(RADIX + 1)
  const n = from.length
  for (let i = 0; i < n; i++) counts[((keys[offset + from[i]] >>> shift) & 0xffff) + 1]++
  for (let d = 0; d < RADIX; d++) counts[d + 1] += counts[d]
  for (let i = 0; i < n; i++) {
    const item = from[i]
    to[counts[(keys[offset + item] >>> shift) & 0xffff]++] = item
  }
}

/**
 * The order of `n` records by their key in one band (keys at `hi/lo[offset + i]`): a stable
 * LSD radix sort, four 16-bit passes, O(n). Returns record slots in key order.
 */
export const sortBand = (hi: Uint32Array, lo: Uint32Array, offset: number, n: number): Int32Array => {
  let a = new Int32Array(n)
  let b = new Int32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  for (const [keys, shift] of [[lo, 0], [lo, 16], [hi, 0], [hi, 16]] as const) {
    radixPass(keys, shift, a, b, offset)
    const t = a
    a = b
    b = t
  }
  return a
}

/** The distinct keys of the slots selected by `keep`, sorted (`order` from `sortBand`). */
export const uniqueKeys = (
  hi: Uint32Array,
  lo: Uint32Array,
  offset: number,
  order: Int32Array,
  keep: (slot: number) => boolean
): SortedKeys => {
  const outHi = new Uint32Array(order.length)
  const outLo = new Uint32Array(order.length)
  let count = 0
  for (const slot of order) {
    if (!keep(slot)) continue
    const h = hi[offset + slot]
    const l = lo[offset + slot]
    if (count > 0 && outHi[count - 1] === h && outLo[count - 1] === l) continue
    outHi[count] = h
    outLo[count] = l
    count++
  }
  return { hi: outHi.slice(0, count), lo: outLo.slice(0, count) }
}

/**
 * Walks the slots in key order (`order`) against a sorted key list and calls `hit` for every
 * slot whose key appears in it. O(n + m).
 */
export const matchSorted = (
  hi: Uint32Array,
  lo: Uint32Array,
  offset: number,
  order: Int32Array,
  other: SortedKeys,
  hit: (slot: number) => void
): void => {
  let j = 0
  const m = other.hi.length
  for (const slot of order) {
    const h = hi[offset + slot]
    const l = lo[offset + slot]
    while (j < m && (other.hi[j] < h || (other.hi[j] === h && other.lo[j] < l))) j++
    if (j === m) return
    if (other.hi[j] === h && other.lo[j] === l) hit(slot)
  }
}

const MAGIC = "winnow.lsh/1\n"

/**
 * Writes a band sidecar: a magic line, a JSON header line (segment hash, params key, keys per
 * band, sha256 of the body), then each band's keys as little-endian (hi, lo) pairs.
 */
export const writeBandSidecar = async (
  path: string,
  header: { readonly segment: string; readonly params_key: string },
  bands: ReadonlyArray<SortedKeys>
): Promise<void> => {
  const body = Buffer.alloc(bands.reduce((sum, band) => sum + band.hi.length * 8, 0))
  let at = 0
  for (const band of bands) {
    for (let i = 0; i < band.hi.length; i++) {
      body.writeUInt32LE(band.hi[i], at)
      body.writeUInt32LE(band.lo[i], at + 4)
      at += 8
    }
  }
  const counts = bands.map((band) => band.hi.length)
  const sha = createHash("sha256").update(body).digest("hex")
  const head = Buffer.from(`${MAGIC}${JSON.stringify({ ...header, counts, sha256: sha })}\n`, "utf8")
  await writeFileAtomic(path, Buffer.concat([head, body]))
}

/**
 * Reads a band sidecar written for `segment` with `paramsKey`; `null` when it is missing,
 * for another segment or parameters, truncated, or its body does not hash to its header
 * (the caller then rebuilds it from the segment).
 */
export const readBandSidecar = async (
  path: string,
  segment: string,
  paramsKey: string
): Promise<Array<SortedKeys> | null> => {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch {
    return null
  }
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return null
  const newline = data.indexOf(10, MAGIC.length)
  if (newline === -1) return null
  let header: { segment?: unknown; params_key?: unknown; counts?: unknown; sha256?: unknown }
  try {
    header = JSON.parse(data.toString("utf8", MAGIC.length, newline))
  } catch {
    return null
  }
  const counts = header.counts
  if (header.segment !== segment || header.params_key !== paramsKey || !Array.isArray(counts)) return null
  const body = data.subarray(newline + 1)
  if (body.length !== counts.reduce((sum: number, c: number) => sum + c * 8, 0)) return null
  if (createHash("sha256").update(body).digest("hex") !== header.sha256) return null
  const bands: Array<SortedKeys> = []
  let at = 0
  for (const count of counts as Array<number>) {
    const hi = new Uint32Array(count)
    const lo = new Uint32Array(count)
    for (let i = 0; i < count; i++) {
      hi[i] = body.readUInt32LE(at)
      lo[i] = body.readUInt32LE(at + 4)
      at += 8
    }
    bands.push({ hi, lo })
  }
  return bands
}
