/**
 * Final-answer extraction and comparison for math-style verifiers, in Chinese and English:
 * `\boxed{}`, "答案是 / 答案为 / 答：", "The answer is / Answer:", GSM8K's "####", else the last
 * number. Numbers may be Arabic (full-width too), LaTeX fractions, percentages or Chinese numerals.
 */

const PHRASES: readonly RegExp[] = [
  /(?:最终答案|正确答案|答案)\s*(?:是|为|应为|[:：])\s*[:：]?\s*/g,
  /(?:^|\n|。)\s*(?:答|解答)\s*[:：]\s*/g,
  /(?:所以|因此|故)[^。\n]{0,12}?(?:是|为|等于|有)\s*/g,
  /(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*:?\s*/gi,
  /####\s*/g
]

const SENTENCE_END = /(?:[。！？!?\n]|\.(?:\s|$)|[,，;；](?=\s*\D))/

/** The content of the last `\boxed{…}` (or `\fbox{…}`), braces balanced; undefined if none. */
export const lastBoxed = (text: string): string | undefined => {
  const at = Math.max(text.lastIndexOf("\\boxed{"), text.lastIndexOf("\\fbox{"))
  if (at < 0) return undefined
  let depth = 0
  const open = text.indexOf("{", at)
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i)
  }
  return undefined
}

/**
 * The final answer a response states: the last `\boxed{}`, else the text after the last answer
 * phrase up to the end of its sentence, else the last number. Undefined when nothing is found.
 */
export const extractAnswer = (response: string): string | undefined => {
  const text = response.normalize("NFKC")
  const boxed = lastBoxed(text)
  if (boxed !== undefined) return boxed.trim()
  let best: { at: number; rest: string } | undefined
  for (const phrase of PHRASES) {
    for (const match of text.matchAll(phrase)) {
      const at = match.index! + match[0].length
      if (!best || at > best.at) best = { at, rest: text.slice(at) }
    }
  }
  if (best) {
    const answer = best.rest.split(SENTENCE_END)[0]!.trim()
    if (answer) return answer
  }
  const numbers = [...text.matchAll(NUMBER_TOKEN)]
  return numbers.at(-1)?.[0]
}

const NUMBER_TOKEN = /[-−]?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?|负?[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿点]*/g
const ARABIC = /[-−]?\d[\d,]*(?:\.\d+)?(?:\s*\/\s*\d+)?\s*%?/
const FRAC = /\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}/

/** A parsed number and whether it was written as a percentage. */
export interface ParsedNumber {
  readonly value: number
  readonly percent: boolean
}

/** Parses the first number in an answer: LaTeX fraction, Arabic (1,000.5, 3/4, 50%), or Chinese numerals. */
export const parseNumber = (answer: string): ParsedNumber | undefined => {
  const text = answer.normalize("NFKC").replaceAll("\\$", "").replaceAll("$", "").replaceAll("\\%", "%")
  const frac = FRAC.exec(text)
  if (frac) {
    const a = parseNumber(frac[1]!)
    const b = parseNumber(frac[2]!)
    if (a && b && b.value !== 0) return { value: a.value / b.value, percent: false }
  }
  const arabic = ARABIC.exec(text)
  if (arabic) {
    const raw = arabic[0].replace(/\s/g, "").replace("−", "-")
    const percent = raw.endsWith("%")
    const body = raw.replace("%", "").replace(/,(?=\d{3}(\D|$))/g, "")
    const [num, den] = body.split("/")
    const value = den === undefined ? Number(num) : Number(num) / Number(den)
    if (Number.isFinite(value)) return { value: percent ? value / 100 : value, percent }
  }
  const chinese = /负?[零〇一二两三四五六七八九十百千万亿]+(?:分之[零〇一二两三四五六七八九十百千万亿]+)?(?:点[零〇一二两三四五六七八九]+)?/.exec(text)
  if (chinese) {
    const value = parseChineseNumber(chinese[0])
    if (value !== undefined) return { value, percent: chinese[0].startsWith("百分之") }
  }
  return undefined
}

const DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 }
const SMALL: Record<string, number> = { 十: 10, 百: 100, 千: 1000 }
const BIG: Record<string, number> = { 万: 1e4, 亿: 1e8 }

/**
 * Value of a Chinese numeral: 三十六 → 36, 一千零五 → 1005, 两万 → 20000, 二〇二四 → 2024,
 * 三点五 → 3.5, 负三 → −3, 三分之一 → 1/3, 百分之五十 → 0.5. Undefined when it is not one.
 */
export const parseChineseNumber = (text: string): number | undefined => {
  if (text.startsWith("负")) {
    const rest = parseChineseNumber(text.slice(1))
    return rest === undefined ? undefined : -rest
  }
  const ratio = text.indexOf("分之")
  if (ratio >= 0) {
    const den = ratio === 0 ? undefined : parseChineseNumber(text.slice(0, ratio))
    const num = parseChineseNumber(text.slice(ratio + 2))
    return den && num !== undefined ? num / den : undefined
  }
  const [whole, fraction] = text.split("点")
  if (!whole) return undefined
  let value: number
  if (![...whole].some((ch) => ch in SMALL || ch in BIG)) {
    if (![...whole].every((ch) => ch in DIGITS)) return undefined
    value = Number([...whole].map((ch) => DIGITS[ch]).join(""))
  } else {
    let total = 0
    let section = 0
    let digit = 0
    for (const ch of whole) {
      if (ch in DIGITS) digit = DIGITS[ch]!
      else if (ch in SMALL) {
        section += (digit || 1) * SMALL[ch]!
        digit = 0
      } else if (ch in BIG) {
        total += (section + digit) * BIG[ch]!
        section = 0
        digit = 0
      } else return undefined
    }
    value = total + section + digit
  }
  if (fraction === undefined) return value
  if (!fraction || ![...fraction].every((ch) => ch in DIGITS)) return undefined
  return Number(`${value}.${[...fraction].map((ch) => DIGITS[ch]).join("")}`)
}

/** Folds an answer for exact comparison: width, case, spaces, `\text{}`, `$`, trailing punctuation. */
export const normalizeAnswer = (answer: string): string =>
  answer
    .normalize("NFKC")
    .replace(/\\text\{([^{}]*)\}/g, "$1")
    .replaceAll("$", "")
    .toLowerCase()
    .replace(/\s+/g, "")
    .replace(/[.。,，;；!！]+$/u, "")

/**
 * Whether an extracted answer matches the reference: numerically within a relative `tolerance`
 * when both parse as numbers (a percentage also matches its value with the % dropped), else
 * exactly after `normalizeAnswer`. `exact` skips the numeric comparison.
 */
export const answersMatch = (answer: string, reference: string, mode: "numeric" | "exact", tolerance: number): boolean => {
  if (mode === "numeric") {
    const a = parseNumber(answer)
    const r = parseNumber(reference)
    if (a && r) {
      const close = (x: number, y: number) => Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(y))
      if (close(a.value, r.value)) return true
      if (a.percent !== r.percent) return close(a.percent ? a.value * 100 : a.value, r.percent ? r.value * 100 : r.value)
      return false
    }
  }
  return normalizeAnswer(answer) === normalizeAnswer(reference)
}
