/**
 * Text statistics that are right for Chinese as well as English: CJK text is measured in
 * characters, space-separated text in words.
 */

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\u{20000}-\u{2ffff}]/u
const LETTER = /[\p{L}\p{N}]/u

/** True for a Han, kana or Hangul character. */
export const isCjkChar = (ch: string): boolean => CJK.test(ch)

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
