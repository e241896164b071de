/**
 * Text statistics that are right for Chinese as well as English: CJK text is measured in
 * characters, space-separated text in words. The one definition of "CJK" in winnow.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u
const NUMERAL = /\p{N}/u
const LETTER = /[\p{L}\p{N}]/u
const NON_ASCII = /[^\x00-\x7f]/u

/** Below this code point no character is Han, Hiragana or Katakana (U+2E80 starts the CJK radicals). */
const FIRST_CJK = 0x2e80

/**
 * Answers of the Unicode property tests for code points outside ASCII, kept per code point: the
 * properties are fixed, and scorers and statistics ask about the same few thousand characters
 * millions of times. Bounded by the characters that occur.
 */
const cjkOf = new Map<number, boolean>()
const letterOf = new Map<number, boolean>()

/** True for a code point of a CJK script that does not separate words (see `isCjkChar`). */
const isCjkCode = (code: number): boolean => {
  if (code < FIRST_CJK) return false
  let known = cjkOf.get(code)
  if (known === undefined) {
    const ch = String.fromCodePoint(code)
    cjkOf.set(code, (known = CJK.test(ch) && !NUMERAL.test(ch)))
  }
  return known
}

/** True for a code point that is a letter or a digit (`\p{L}` or `\p{N}`). */
const isLetterCode = (code: number): boolean => {
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
  let known = letterOf.get(code)
  if (known === undefined) letterOf.set(code, (known = LETTER.test(String.fromCodePoint(code))))
  return known
}

/** True when `text` is exactly one code point. */
const isOneCodePoint = (text: string): boolean => text.length === 1 || (text.length === 2 && text.codePointAt(0)! > 0xffff)

/**
 * True for a character of a CJK script that does not separate words: Han, Hiragana, Katakana
 * (numerals such as 〇 excepted). Each such character is a unit of its own in every metric, shingle
 * and dedup step; Hangul separates words with spaces, so Korean is measured in words.
 */
export const isCjkChar = (ch: string): boolean =>
  isOneCodePoint(ch) ? isCjkCode(ch.codePointAt(0)!) : CJK.test(ch) && !NUMERAL.test(ch)

/** Folds full-width ASCII and compatibility forms (NFKC) so `ＡＢＣ１２３` counts like `ABC123`. */
export const normalizeWidth = (text: string): string => (NON_ASCII.test(text) ? text.normalize("NFKC") : text)

/** Length in Unicode code points (a Chinese character counts once, an emoji once). */
export const charLength = (text: string): number => {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
    }
    count++
  }
  return count
}

/** Share of CJK characters among letters and digits (0 when there are none). */
export const cjkRatio = (text: string): number => {
  let letters = 0
  let cjk = 0
  const normal = normalizeWidth(text)
  for (let i = 0; i < normal.length; i++) {
    const code = normal.codePointAt(i)!
    if (code > 0xffff) i++
    if (!isLetterCode(code)) continue
    letters++
    if (isCjkCode(code)) cjk++
  }
  return letters === 0 ? 0 : cjk / letters
}

/**
 * Splits text into units: each CJK character is a unit, runs of other letters/digits are
 * lower-cased words. Punctuation and spaces separate units.
 */
export const textUnits = (text: string): string[] => {
  const units: string[] = []
  const normal = normalizeWidth(text)
  let wordStart = -1
  for (let i = 0; i < normal.length; i++) {
    const at = i
    const code = normal.codePointAt(i)!
    if (code > 0xffff) i++
    if (isCjkCode(code)) {
      if (wordStart !== -1) units.push(normal.slice(wordStart, at).toLowerCase())
      wordStart = -1
      units.push(normal.slice(at, i + 1))
    } else if (isLetterCode(code)) {
      if (wordStart === -1) wordStart = at
    } else if (wordStart !== -1) {
      units.push(normal.slice(wordStart, at).toLowerCase())
      wordStart = -1
    }
  }
  if (wordStart !== -1) units.push(normal.slice(wordStart).toLowerCase())
  return units
}

/** The key of the n-gram of `units` starting at `i`. */
const gramAt = (units: readonly string[], i: number, n: number): string => {
  let key = units[i]!
  for (let k = 1; k < n; k++) key += "\u0001" + units[i + k]!
  return key
}

/** Distinct-n: unique n-grams of units over all n-grams (1 when the text is too short to repeat). */
export const distinctN = (text: string, n: number): number => {
  const units = textUnits(text)
  if (units.length < n) return units.length === 0 ? 0 : 1
  const grams = new Set<string>()
  for (let i = 0; i + n <= units.length; i++) grams.add(gramAt(units, i, n))
  return grams.size / (units.length - n + 1)
}

/** What one pass over a text counts: its units (CJK ones apart) and, among its letters, kana, Hangul and other CJK. */
interface ScriptCounts {
  readonly units: number
  readonly cjkUnits: number
  readonly letters: number
  readonly kana: number
  readonly hangul: number
  readonly han: number
}

const isKana = (code: number): boolean => code >= 0x3040 && code <= 0x30ff
const isHangul = (code: number): boolean => (code >= 0xac00 && code <= 0xd7af) || (code >= 0x1100 && code <= 0x11ff)

/** Counts units as `textUnits` cuts them and letters by script, in one pass over the normalised text. */
const scriptCounts = (text: string): ScriptCounts => {
  let units = 0
  let cjkUnits = 0
  let inWord = false
  let letters = 0
  let kana = 0
  let hangul = 0
  let han = 0
  const normal = normalizeWidth(text)
  for (let i = 0; i < normal.length; i++) {
    const code = normal.codePointAt(i)!
    if (code > 0xffff) i++
    const cjk = isCjkCode(code)
    const letter = isLetterCode(code)
    if (cjk) {
      if (inWord) units++
      inWord = false
      units++
      cjkUnits++
    } else if (letter) {
      inWord = true
    } else if (inWord) {
      units++
      inWord = false
    }
    if (!letter) continue
    letters++
    if (isKana(code)) kana++
    else if (isHangul(code)) hangul++
    else if (cjk) han++
  }
  if (inWord) units++
  return { units, cjkUnits, letters, kana, hangul, han }
}

const scriptOf = (counts: ScriptCounts): "cjk" | "latin" | "none" =>
  counts.units === 0 ? "none" : counts.cjkUnits * 2 >= counts.units ? "cjk" : "latin"

/** The dominant script of a text: "cjk", "latin" (other letters) or "none". */
export const dominantScript = (text: string): "cjk" | "latin" | "none" => scriptOf(scriptCounts(text))

/** Language of a text as far as script tells: Chinese, Japanese (kana), Korean (Hangul), other letters, or none. */
export type ScriptLanguage = "zh" | "ja" | "ko" | "latin" | "none"

/**
 * The language family of a text from its units: Latin-script words against CJK characters
 * (as in `dominantScript`); CJK text with kana is Japanese, with mostly Hangul Korean.
 */
export const detectLanguage = (text: string): ScriptLanguage => {
  const counts = scriptCounts(text)
  if (counts.hangul * 2 > counts.letters) return "ko"
  const script = scriptOf(counts)
  if (script !== "cjk") return script
  return counts.kana > 0 && counts.kana * 10 >= counts.han + counts.kana ? "ja" : "zh"
}

/**
 * Repetition: the share of units (CJK characters / words) covered by an n-gram that occurs
 * more than once in the text. 0 for text shorter than n units. Catches loops in both scripts.
 */
export const repetitionRatio = (text: string, n: number): number => {
  const units = textUnits(text)
  if (units.length < n) return 0
  const counts = new Map<string, number>()
  const keys: string[] = []
  for (let i = 0; i + n <= units.length; i++) {
    const key = gramAt(units, i, n)
    keys.push(key)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const covered = new Uint8Array(units.length)
  keys.forEach((key, i) => {
    if (counts.get(key)! > 1) covered.fill(1, i, i + n)
  })
  return covered.reduce((a, b) => a + b, 0) / units.length
}

/** Punctuation with a full-width form used in CJK text and a half-width form used elsewhere. */
const WIDTH_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ["，", ","], ["。", "."], ["！", "!"], ["？", "?"], ["：", ":"], ["；", ";"], ["（", "("], ["）", ")"]
]
const FULLWIDTH_ALNUM = /[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/u
const FULL = new Map(WIDTH_PAIRS.map(([f]) => [f, true]))
const HALF = new Map(WIDTH_PAIRS.map(([, h]) => [h, true]))

/**
 * Punctuation width consistency: among the marks that have both forms (，, 。. ！! ？? ：: ；; （( ）)),
 * the share written in the form their context calls for — full-width after CJK text, half-width
 * after other letters. Marks between digits (3.14, 10:30) and marks with no letter before them
 * are skipped. 1 when there is nothing to judge.
 */
export const punctuationWidthConsistency = (text: string): number => {
  const chars = [...text]
  let judged = 0
  let right = 0
  let context: "cjk" | "latin" | undefined
  chars.forEach((ch, i) => {
    if (isCjkChar(ch) || FULLWIDTH_ALNUM.test(ch)) context = "cjk"
    else if (/\p{L}/u.test(ch)) context = "latin"
    const full = FULL.has(ch)
    if (!full && !HALF.has(ch)) return
    if (!context) return
    if (!full && /\d/.test(chars[i - 1] ?? "") && /\d/.test(chars[i + 1] ?? "")) return
    judged++
    if (full === (context === "cjk")) right++
  })
  return judged === 0 ? 1 : right / judged
}
