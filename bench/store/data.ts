import { closeSync, openSync, writeSync } from "node:fs"
import { makeRecord, recordId, type SftRecord } from "../../datasets/record.js"
import { HashList, normalizeText, shingleHashes, tokenHashes } from "../../datasets/dedup/shingles.js"

/**
 * Deterministic benchmark data for the store: short mixed Chinese/English SFT records, ten
 * responses per prompt, with planted near-duplicates (an edited copy of an earlier response to
 * the same prompt) and exact duplicates. Same arguments, same bytes.
 */

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sha", "vel", "dor", "qui", "ne", "bar", "sol", "tin", "ex", "ur", "pa", "gri", "mon", "fel", "zu"]

/** A planted near-duplicate pair and its true shingle Jaccard similarity (store shingling, 3-grams). */
export interface PlantedPair {
  readonly original: string
  readonly variant: string
  readonly lang: "zh" | "en"
  readonly jaccard: number
}

/** Exact Jaccard similarity of two texts' shingle sets under the store's tokenizer. */
export const shingleJaccard = (a: string, b: string, ngram = 3): number => {
  const set = (text: string) => {
    const tokens = new HashList()
    const shingles = new HashList()
    tokenHashes(normalizeText(text), tokens)
    shingleHashes(tokens, ngram, 0, shingles)
    return new Set(shingles.values.subarray(0, shingles.length))
  }
  const x = set(a)
  const y = set(b)
  let common = 0
  for (const v of x) if (y.has(v)) common++
  return common / (x.size + y.size - common)
}

/** Generates `count` records; calls `emit` per record in order; returns the planted pairs. */
export const generateRecords = (count: number, seed: number, emit: (record: SftRecord) => void): Array<PlantedPair> => {
  const random = mulberry32(seed)
  const pick = <T>(items: ReadonlyArray<T>): T => items[Math.floor(random() * items.length)]
  const words = Array.from({ length: 3000 }, () => Array.from({ length: 2 + Math.floor(random() * 2) }, () => pick(SYLLABLES)).join(""))
  const hanzi = Array.from({ length: 3000 }, () => String.fromCodePoint(0x4e00 + Math.floor(random() * 0x5000)))
  const enText = (n: number) => Array.from({ length: n }, () => pick(words)).join(" ")
  const zhText = (n: number) => {
    let text = ""
    for (let i = 0; i < n; i++) text += i > 0 && i % 9 === 0 ? "，" : pick(hanzi)
    return `${text}。`
  }
  const planted: Array<PlantedPair> = []
  const perPrompt = 10
  for (let p = 0; p * perPrompt < count; p++) {
    const lang: "zh" | "en" = p % 2 === 0 ? "zh" : "en"
    const prompt = lang === "zh" ? `请回答第${p}个问题：${zhText(8)}` : `Question ${p}: ${enText(6)}?`
    const responses: Array<string> = []
    for (let k = 0; k < perPrompt && p * perPrompt + k < count; k++) {
      const roll = random()
      let response: string
      if (roll < 0.01 && responses.length > 0) {
        response = pick(responses)
      } else if (roll < 0.07 && responses.length > 0) {
        const original = pick(responses)
        response = lang === "zh" ? editZh(original, random, pick(hanzi)) : editEn(original, random, pick(words))
        planted.push({ original: recordId({ kind: "sft", messages: [{ role: "user", content: prompt }], response: original }),
          variant: recordId({ kind: "sft", messages: [{ role: "user", content: prompt }], response }), lang, jaccard: shingleJaccard(original, response) })
      } else {
        response = lang === "zh" ? zhText(20 + Math.floor(random() * 20)) : enText(14 + Math.floor(random() * 12))
        if (random() < 0.2) response = lang === "zh" ? `${response}用${pick(words)}实现` : `${response} 中文 ${pick(hanzi)}`
      }
      responses.push(response)
      const score = Math.round(random() * 1e6) / 1e6
      emit(makeRecord({
        kind: "sft",
        prompt_id: `p${p}`,
        messages: [{ role: "user", content: prompt }],
        response,
        score,
        scores: { reward: score, quality: Math.round(random() * 1e4) / 1e4 },
        round: 1,
        sample_index: k
      }))
    }
  }
  return planted
}

/** Edits that keep most 3-gram shingles: from one changed end token (J ≈ 0.9) to two middle edits (J ≈ 0.75–0.85). */
const editEn = (text: string, random: () => number, word: string): string => {
  const tokens = text.split(" ")
  const kind = Math.floor(random() * 6)
  if (kind === 0) tokens[tokens.length - 1] = word
  else if (kind === 1) tokens.push(word)
  else if (kind === 2) tokens.shift()
  else if (kind === 3) tokens[0] = tokens[0].toUpperCase()
  else if (kind === 4) tokens[Math.floor(tokens.length / 2)] = word
  else {
    tokens[tokens.length - 1] = word
    tokens.shift()
  }
  return tokens.join(" ")
}

const editZh = (text: string, random: () => number, char: string): string => {
  const chars = [...text]
  const kind = Math.floor(random() * 6)
  if (kind === 0) chars[chars.length - 2] = char
  else if (kind === 1) chars.splice(chars.length - 1, 0, char)
  else if (kind === 2) chars.shift()
  else if (kind === 3) return chars.join("").replace(/，/g, ",")
  else if (kind === 4) chars[Math.floor(chars.length / 2)] = char
  else {
    chars[chars.length - 2] = char
    chars.splice(1, 1)
  }
  return chars.join("")
}

/** Writes the records as JSONL (one record per line) and returns the planted pairs. */
export const writeRecordsFile = (path: string, count: number, seed: number): Array<PlantedPair> => {
  const fd = openSync(path, "w")
  let buffer: Array<string> = []
  try {
    const planted = generateRecords(count, seed, (record) => {
      buffer.push(`${JSON.stringify(record)}\n`)
      if (buffer.length >= 10_000) {
        writeSync(fd, buffer.join(""))
        buffer = []
      }
    })
    writeSync(fd, buffer.join(""))
    return planted
  } finally {
    closeSync(fd)
  }
}
