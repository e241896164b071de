/**
 * Text statistics that are right for Chinese as well as English: CJK text is measured in
 * characters, space-separated text in words. The one definition of "CJK" in winnow.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u
const NUMERAL = /\p{N}/u
const LETTER = /[\p{L}\p{N}]/u

/**
 * True for a character of a CJK script that does not separate words: Han, Hiragana, Katakana
 * (numerals such as 〇 excepted). Each such character is a unit of its own in every metric, shingle
 * and dedup step; Hangul separates words with spaces, so Korean is measured in words.
 */
export const isCjkChar = (ch: string): boolean => CJK.test(ch) && !NUMERAL.test(ch)

/** Folds full-width ASCII and compatibility forms (NFKC) so `ＡＢＣ１２３` counts like `ABC123`. */
export const normalizeWidth = (text: string): string => text.normalize("NFKC")

/** Length in Unicode code points (a Chinese character counts once, an emoji once). */
export const charLength = (text: string): number => [...text].length

/** Share of CJK characters among letters and digits (0 when there are none). */
export const cjkRatio = (text: string): number => {
  let letters = 0
  let cjk = 0
  for (const ch of normalizeWidth(text)) {
    if (!LETTER.test(ch)) continue
    letters++
    if (isCjkChar(ch)) cjk++
  }
  return letters === 0 ? 0 : cjk / letters
}

/**
 * Splits text into units: each CJK character is a unit, runs of other letters/digits are
 * lower-cased words. Punctuation and spaces separate units.
 */
export const textUnits = (text: string): string[] => {
  const units: string[] = []
  let word = ""
  for (const ch of normalizeWidth(text)) {
    if (isCjkChar(ch)) {
      if (word) units.push(word.toLowerCase())
      word = ""
      units.push(ch)
    } else if (LETTER.test(ch)) {
      word += ch
    } else {
      if (word) units.push(word.toLowerCase())
      word = ""
    }
  }
  if (word) units.push(word.toLowerCase())
  return units
}

/** Distinct-n: unique n-grams of units over all n-grams (1 when the text is too short to repeat). */
export const distinctN = (text: string, n: number): number => {
  const units = textUnits(text)
  if (units.length < n) return units.length === 0 ? 0 : 1
  const grams = new Set<string>()
  for (let i = 0; i + n <= units.length; i++) grams.add(units.slice(i, i + n).join("\u0001"))
  return grams.size / (units.length - n + 1)
}

/** The dominant script of a text: "cjk", "latin" (other letters) or "none". */
export const dominantScript = (text: string): "cjk" | "latin" | "none" => {
  const units = textUnits(text)
  if (units.length === 0) return "none"
  const cjk = units.filter((u) => isCjkChar(u)).length
  return cjk * 2 >= units.length ? "cjk" : "latin"
}

const KANA = /[\u3040-\u30ff]/u
const HANGUL = /[\uac00-\ud7af\u1100-\u11ff]/u

/** Language of a text as far as script tells: Chinese, Japanese (kana), Korean (Hangul), other letters, or none. */
export type ScriptLanguage = "zh" | "ja" | "ko" | "latin" | "none"

/**
 * The language family of a text from its units: Latin-script words against CJK characters
 * (as in `dominantScript`); CJK text with kana is Japanese, with mostly Hangul Korean.
 */
export const detectLanguage = (text: string): ScriptLanguage => {
  let han = 0
  let kana = 0
  let hangul = 0
  let letters = 0
  for (const ch of normalizeWidth(text)) {
    if (!LETTER.test(ch)) continue
    letters++
    if (KANA.test(ch)) kana++
    else if (HANGUL.test(ch)) hangul++
    else if (isCjkChar(ch)) han++
  }
  if (hangul * 2 > letters) return "ko"
  const script = dominantScript(text)
  if (script !== "cjk") return script
  return kana > 0 && kana * 10 >= han + kana ? "ja" : "zh"
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
    const key = units.slice(i, i + n).join("\u0001")
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
