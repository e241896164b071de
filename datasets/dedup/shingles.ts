/**
 * Text → shingle hashes for near-duplicate detection, right for Chinese and English alike.
 * Text is normalised (NFKC folds full-width forms, then lower case); a token is a run of
 * letters/digits in space-separated scripts (Latin, Cyrillic, Hangul, ...) or one single
 * character in CJK scripts that do not separate words (Han, Hiragana, Katakana); everything
 * else separates tokens. Shingles are n-grams of tokens, so English gets word n-grams and
 * Chinese character n-grams, and mixed text gets both. Hashes are 32-bit, computed without
 * building substrings.
 */

import { isCjkChar } from "../../core/text.js"

const SEPARATOR = 0
const WORD = 1
const CJK = 2

const classes = (() => {
  const table = new Uint8Array(65536)
  const word = /[\p{L}\p{N}\p{M}]/u
  for (let code = 0; code < 65536; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue
    const char = String.fromCharCode(code)
    table[code] = isCjkChar(char) ? CJK : word.test(char) ? WORD : SEPARATOR
  }
  return table
})()

const astralClass = (codePoint: number): number => {
  const char = String.fromCodePoint(codePoint)
  if (isCjkChar(char)) return CJK
  return /[\p{L}\p{N}\p{M}]/u.test(char) ? WORD : SEPARATOR
}

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** Final avalanche of a 32-bit hash (murmur3 fmix32). */
export const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A growable list of uint32 values (token or shingle hashes), reused across calls. */
export class HashList {
  values = new Uint32Array(256)
  length = 0

  /** Empties the list, keeping its buffer. */
  clear(): void {
    this.length = 0
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }
}

/** The normalised form shingling works on: NFKC (full-width → ASCII), lower case. */
export const normalizeText = (text: string): string => text.normalize("NFKC").toLowerCase()

/** Appends the hash of every token of `text` (already normalised) to `out`. */
export const tokenHashes = (text: string, out: HashList): void => {
  let hash = FNV_OFFSET
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    let kind: number
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      code = text.codePointAt(i)!
      kind = astralClass(code)
      i += 1
    } else {
      kind = classes[code]
    }
    if (kind === WORD) {
      if (!inWord) hash = FNV_OFFSET
      hash = Math.imul(hash ^ code, FNV_PRIME)
      inWord = true
      continue
    }
    if (inWord) out.push(fmix32(hash))
    inWord = false
    if (kind === CJK) out.push(fmix32(Math.imul(FNV_OFFSET ^ code, FNV_PRIME) ^ 0x9e3779b9))
  }
  if (inWord) out.push(fmix32(hash))
}

/**
 * Appends the shingle hashes of a token list to `out`: every `ngram` consecutive tokens,
 * mixed with `salt`; a text shorter than `ngram` tokens gives one shingle of all its tokens,
 * and an empty one gives the salt alone (so two empty texts with one salt are duplicates).
 */
export const shingleHashes = (tokens: HashList, ngram: number, salt: number, out: HashList): void => {
  const count = tokens.length
  const t = tokens.values
  if (count === 0) {
    out.push(fmix32(salt ^ 0x27d4eb2f))
    return
  }
  const width = Math.min(ngram, count)
  for (let start = 0; start + width <= count; start++) {
    let h = salt ^ width
    for (let k = 0; k < width; k++) h = Math.imul(h ^ t[start + k], 0x5bd1e995) ^ (h >>> 15)
    out.push(fmix32(h))
  }
}

/** A 32-bit key for a whole token list (order-sensitive); used to key responses by their prompt. */
export const tokenListKey = (tokens: HashList): number => {
  let h = 0x3c6ef372 ^ tokens.length
  for (let i = 0; i < tokens.length; i++) h = Math.imul(h ^ tokens.values[i], 0x5bd1e995) ^ (h >>> 15)
  return fmix32(h)
}
