import { fmix32 } from "./shingles.js"

/**
 * MinHash signatures and LSH band keys over 32-bit shingle hashes. Permutation p maps a
 * shingle hash x to (a_p·x + b_p) mod 2^32 with odd a_p (a bijection of the 32-bit space), and
 * the signature keeps the minimum per permutation; the probability that two sets agree on one
 * permutation is their Jaccard similarity. Bands of `rows` values hash to 64-bit keys (two
 * 32-bit lanes); two records are LSH candidates when any band key is equal.
 */
export class MinHasher {
  private readonly a: Uint32Array
  private readonly b: Uint32Array

  /** Draws `numPerm` permutations from `seed` (splitmix32), so equal seeds give equal signatures. */
  constructor(readonly numPerm: number, seed: number) {
    this.a = new Uint32Array(numPerm)
    this.b = new Uint32Array(numPerm)
    let state = seed >>> 0
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0
      return fmix32(state)
    }
    for (let p = 0; p < numPerm; p++) {
      this.a[p] = (next() | 1) >>> 0
      this.b[p] = next()
    }
  }

  /** Writes the signature of `count` shingle hashes into `out` (length `numPerm`). */
  signature(shingles: Uint32Array, count: number, out: Uint32Array): void {
    const { a, b, numPerm } = this
    for (let p = 0; p < numPerm; p++) {
      const ap = a[p]
      const bp = b[p]
      let min = 0xffffffff
      for (let s = 0; s < count; s++) {
        const v = (Math.imul(ap, shingles[s]) + bp) >>> 0
        if (v < min) min = v
      }
      out[p] = min
    }
  }
}

/**
 * Writes the 64-bit key of each band (`bands` × `rows` signature values) as two uint32 lanes
 * into `hi[band * stride + slot]` and `lo[...]`; `stride` is the number of records held.
 */
export const bandKeys = (
  signature: Uint32Array,
  bands: number,
  rows: number,
  hi: Uint32Array,
  lo: Uint32Array,
  stride: number,
  slot: number
): void => {
  for (let band = 0; band < bands; band++) {
    let h1 = 0x243f6a88 ^ band
    let h2 = 0x85a308d3 ^ Math.imul(band, 0x9e3779b9)
    const base = band * rows
    for (let r = 0; r < rows; r++) {
      const v = signature[base + r]
      h1 = Math.imul(h1 ^ v, 0xcc9e2d51)
      h1 = (h1 << 15) | (h1 >>> 17)
      h2 = Math.imul(h2 ^ v, 0x1b873593)
      h2 = (h2 << 13) | (h2 >>> 19)
    }
    hi[band * stride + slot] = fmix32(h1)
    lo[band * stride + slot] = fmix32(h2 ^ 0x5bd1e995)
  }
}

/** Probability that a pair with Jaccard similarity `s` shares at least one band. */
export const candidateProbability = (s: number, bands: number, rows: number): number =>
  1 - (1 - s ** rows) ** bands

/**
 * Picks bands × rows ≤ `numPerm` for a similarity threshold: among the layouts that catch a
 * pair at exactly `threshold` with probability ≥ `recallAtThreshold`, the one with the least
 * false-positive mass below the threshold (∫₀ᵗ P(s) ds). For 0.8 and 128 permutations this is
 * 16 bands of 8 rows (P(0.8) ≈ 0.95, P(0.6) ≈ 0.24, P(0.5) ≈ 0.06).
 */
export const chooseBands = (threshold: number, numPerm: number, recallAtThreshold = 0.9): { bands: number; rows: number } => {
  let best: { bands: number; rows: number; fp: number } | undefined
  for (let rows = 1; rows <= numPerm; rows++) {
    const bands = Math.floor(numPerm / rows)
    if (bands < 1 || candidateProbability(threshold, bands, rows) < recallAtThreshold) continue
    let fp = 0
    const steps = 200
    for (let i = 0; i < steps; i++) fp += candidateProbability(((i + 0.5) / steps) * threshold, bands, rows) * (threshold / steps)
    if (!best || fp < best.fp) best = { bands, rows, fp }
  }
  return best ? { bands: best.bands, rows: best.rows } : { bands: numPerm, rows: 1 }
}
