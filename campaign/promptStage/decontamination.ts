import { dominantScript, textUnits } from "../../core/text.js"

/**
 * Decontamination of new prompts against an evaluation set by n-gram overlap. Units come from
 * `core/text.ts`: each CJK character is a unit, other text splits into lower-cased words, so the
 * grams are character n-grams in Chinese and word n-grams in English; n follows the text's
 * dominant script. Punctuation and operators are not units: decontaminate arithmetic problems
 * by `arithmeticKey` instead.
 */

/** n per script and the share of a text's n-grams that must occur in the eval set. */
export interface DecontaminationOptions {
  /** n of character n-grams for CJK-dominant text. */
  readonly cjkN: number
  /** n of word n-grams for other text. */
  readonly latinN: number
  /** Contaminated when at least this share of the text's n-grams is in the eval set (0: any one). */
  readonly threshold: number
}

/** 10 characters ≈ 6–7 Chinese words; 8 words; half of the text's grams. */
export const DECONTAMINATION_DEFAULTS: DecontaminationOptions = { cjkN: 10, latinN: 8, threshold: 0.5 }

/** The n-grams of an evaluation set, built once per set with `buildEvalIndex`. */
export interface EvalIndex {
  readonly options: DecontaminationOptions
  readonly grams: ReadonlySet<string>
  /** Whole unit sequences, for texts shorter than their n. */
  readonly wholes: ReadonlySet<string>
}

const JOIN = "\u0001"

const gramsOf = (text: string, options: DecontaminationOptions): { whole: string; grams: string[] } => {
  const units = textUnits(text)
  const n = dominantScript(text) === "cjk" ? options.cjkN : options.latinN
  const grams: string[] = []
  for (let i = 0; i + n <= units.length; i++) grams.push(`${n}${JOIN}${units.slice(i, i + n).join(JOIN)}`)
  return { whole: units.join(JOIN), grams }
}

/** Indexes the n-grams of an evaluation set's prompts (and, if wanted, references). */
export const buildEvalIndex = (texts: Iterable<string>, options: Partial<DecontaminationOptions> = {}): EvalIndex => {
  const resolved = { ...DECONTAMINATION_DEFAULTS, ...options }
  if (!(resolved.threshold >= 0 && resolved.threshold <= 1)) throw new RangeError(`buildEvalIndex: threshold must be in [0, 1], got ${resolved.threshold}`)
  for (const key of ["cjkN", "latinN"] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new RangeError(`buildEvalIndex: ${key} must be an integer ≥ 1, got ${resolved[key]}`)
  }
  const grams = new Set<string>()
  const wholes = new Set<string>()
  for (const text of texts) {
    const of = gramsOf(text, resolved)
    if (of.whole) wholes.add(of.whole)
    for (const gram of of.grams) grams.add(gram)
  }
  return { options: resolved, grams, wholes }
}

/**
 * The share of a text's n-grams found in the eval set (0–1). A text shorter than its n counts
 * as 1 when its whole unit sequence equals an eval text's, else 0.
 */
export const evalOverlap = (text: string, index: EvalIndex): number => {
  const { whole, grams } = gramsOf(text, index.options)
  if (grams.length === 0) return whole !== "" && index.wholes.has(whole) ? 1 : 0
  return grams.filter((gram) => index.grams.has(gram)).length / grams.length
}

/** True when a new prompt overlaps the eval set at or above the index's threshold (and at all). */
export const isContaminated = (text: string, index: EvalIndex): boolean => {
  const overlap = evalOverlap(text, index)
  return overlap > 0 && overlap >= index.options.threshold
}
