import { matchSorted, sortBand, uniqueKeys, type SortedKeys } from "./bandIndex.js"
import type { NearDupParams } from "./dedupParams.js"
import { bandKeys, MinHasher } from "./minhash.js"
import { HashList, normalizeText, shingleHashes, tokenHashes, tokenListKey } from "./shingles.js"

/** What the near-duplicate pass decided for one record. */
export const Decision = { keep: 0, nearDuplicate: 1, nearEarlier: 2, contaminated: 3, skipped: 4 } as const

/**
 * Computes LSH band keys of records (prompt text + answer text) under one parameter set.
 * Scope `response` salts answer shingles with the normalised prompt, so only answers to the
 * same prompt can match; `conversation` shingles prompt and answer together.
 */
export class BandKeyer {
  private readonly hasher: MinHasher
  private readonly tokens = new HashList()
  private readonly promptTokens = new HashList()
  private readonly shingles = new HashList()
  private readonly signature: Uint32Array

  constructor(readonly params: NearDupParams) {
    this.hasher = new MinHasher(params.num_perm, params.seed)
    this.signature = new Uint32Array(params.num_perm)
  }

  /** Writes the band keys of one record into `hi/lo[band * stride + slot]`. */
  recordKeys(prompt: string, answer: string, hi: Uint32Array, lo: Uint32Array, stride: number, slot: number): void {
    const { params } = this
    this.shingles.clear()
    this.tokens.clear()
    if (params.scope === "response") {
      this.promptTokens.clear()
      tokenHashes(normalizeText(prompt), this.promptTokens)
      tokenHashes(normalizeText(answer), this.tokens)
      shingleHashes(this.tokens, params.ngram, tokenListKey(this.promptTokens), this.shingles)
    } else {
      tokenHashes(normalizeText(`${prompt}\n${answer}`), this.tokens)
      shingleHashes(this.tokens, params.ngram, 0, this.shingles)
    }
    this.keysOfShingles(hi, lo, stride, slot)
  }

  /** Writes the band keys of a plain text (a prompt, for decontamination), unsalted. */
  textKeys(text: string, hi: Uint32Array, lo: Uint32Array, stride: number, slot: number): void {
    this.shingles.clear()
    this.tokens.clear()
    tokenHashes(normalizeText(text), this.tokens)
    shingleHashes(this.tokens, this.params.ngram, 0, this.shingles)
    this.keysOfShingles(hi, lo, stride, slot)
  }

  private keysOfShingles(hi: Uint32Array, lo: Uint32Array, stride: number, slot: number): void {
    this.hasher.signature(this.shingles.values, this.shingles.length, this.signature)
    bandKeys(this.signature, this.params.bands, this.params.rows, hi, lo, stride, slot)
  }
}

/** Band keys of `n` slots, band-major (`hi[band * n + slot]`). */
export interface KeyTable {
  readonly n: number
  readonly hi: Uint32Array
  readonly lo: Uint32Array
}

/** An empty key table for `n` slots and `bands` bands. */
export const keyTable = (n: number, bands: number): KeyTable =>
  ({ n, hi: new Uint32Array(n * bands), lo: new Uint32Array(n * bands) })

/** Sorted distinct keys per band of every slot in a table (all slots, or those `keep` selects). */
export const sortedBands = (table: KeyTable, bands: number, keep: (slot: number) => boolean = () => true): Array<SortedKeys> =>
  Array.from({ length: bands }, (_, band) => {
    const offset = band * table.n
    return uniqueKeys(table.hi, table.lo, offset, sortBand(table.hi, table.lo, offset, table.n), keep)
  })

/** Inputs of `resolveNearDuplicates`: keys in processing order (best record first). */
export interface NearDupInput {
  readonly bands: number
  readonly keys: KeyTable
  /** Band keys of earlier segments, loaded one segment at a time. */
  readonly earlier: ReadonlyArray<() => Promise<ReadonlyArray<SortedKeys>>>
  /** Slots whose prompt is a near-duplicate of an evaluation prompt. */
  readonly contaminated?: Uint8Array
}

/**
 * Decides every slot: a slot sharing a band key with an earlier segment is `nearEarlier`;
 * slots sharing band keys with each other form clusters (union-find), and each cluster keeps
 * its first slot (the best scored, since slots come best first); contaminated slots go first.
 * Memory: the key table plus a few int arrays per slot; no record text is held.
 */
export const resolveNearDuplicates = async (input: NearDupInput): Promise<Uint8Array> => {
  const { n, hi, lo } = input.keys
  const parent = new Int32Array(n)
  for (let i = 0; i < n; i++) parent[i] = i
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]
      i = parent[i]
    }
    return i
  }
  const earlierHit = new Uint8Array(n)
  const orders: Array<Int32Array> = []
  for (let band = 0; band < input.bands; band++) {
    const offset = band * n
    const order = sortBand(hi, lo, offset, n)
    orders.push(order)
    for (let k = 1; k < n; k++) {
      const a = order[k - 1]
      const b = order[k]
      if (hi[offset + a] === hi[offset + b] && lo[offset + a] === lo[offset + b]) {
        const ra = find(a)
        const rb = find(b)
        if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb)
      }
    }
  }
  for (const load of input.earlier) {
    const earlierBands = await load()
    for (let band = 0; band < input.bands; band++) {
      matchSorted(hi, lo, band * n, orders[band], earlierBands[band], (slot) => { earlierHit[slot] = 1 })
    }
  }
  const decisions = new Uint8Array(n)
  const clusterKept = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    if (input.contaminated?.[i]) decisions[i] = Decision.contaminated
    else if (earlierHit[i]) decisions[i] = Decision.nearEarlier
    else {
      const root = find(i)
      if (clusterKept[root]) decisions[i] = Decision.nearDuplicate
      else clusterKept[root] = 1
    }
  }
  return decisions
}
