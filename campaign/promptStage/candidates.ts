import { textUnits } from "../../core/text.js"
import { type EvalIndex, isContaminated } from "./decontamination.js"

/**
 * Screening of candidate prompts that an operator parsed from a model's response: length, exact
 * and normalised duplicates (against earlier prompts and each other), and eval-set contamination.
 */

/** Why a candidate prompt was not kept. */
export type DropReason = "empty" | "too_short" | "too_long" | "duplicate_exact" | "duplicate_normalized" | "contaminated"

/** Length limits in units (a CJK character or a word, as `core/text.ts` counts them). */
export interface LengthLimits {
  readonly minUnits: number
  readonly maxUnits: number
}

/** At least 3 units ("写一首诗" has 4, "Write a poem" 3), at most 400. */
export const LENGTH_DEFAULTS: LengthLimits = { minUnits: 3, maxUnits: 400 }

/**
 * The dedup key of a prompt: NFKC, lower-cased, with whitespace, punctuation and symbols
 * removed, so `Write a poem!` and ` write a POEM。` share a key, in either script.
 */
export const normalizedPromptKey = (text: string): string =>
  text.normalize("NFKC").toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, "")

/** Why a prompt's length is unacceptable, or undefined when it is fine. */
export const lengthProblem = (text: string, limits: LengthLimits = LENGTH_DEFAULTS): "empty" | "too_short" | "too_long" | undefined => {
  if (text.trim() === "") return "empty"
  const units = textUnits(text).length
  if (units < limits.minUnits) return "too_short"
  if (units > limits.maxUnits) return "too_long"
  return undefined
}

/** What screening a batch of candidates needs; every part optional. */
export interface ScreenOptions {
  /** Prompts that already exist (seed prompts, earlier rounds): candidates equal to one are dropped. */
  readonly earlier?: Iterable<string>
  readonly limits?: LengthLimits
  /** Drops candidates that overlap this eval set (`buildEvalIndex`). */
  readonly evalIndex?: EvalIndex
}

/** The candidates kept, in order, and how many were dropped for each reason. */
export interface Screened {
  readonly kept: string[]
  readonly dropped: Record<DropReason, number>
}

/** A count of 0 for every drop reason. */
export const noDrops = (): Record<DropReason, number> => ({
  empty: 0, too_short: 0, too_long: 0, duplicate_exact: 0, duplicate_normalized: 0, contaminated: 0
})

/**
 * Screens candidates in order: trims them, then drops empty, too short or too long ones,
 * exact duplicates, normalised duplicates (`normalizedPromptKey`) of an earlier prompt or an
 * earlier candidate, and eval-set overlaps. Text is kept as written: Chinese punctuation and
 * full-width forms stay intact.
 */
export const screenCandidates = (candidates: Iterable<string>, options: ScreenOptions = {}): Screened => {
  const exact = new Set<string>()
  const normalized = new Set<string>()
  for (const text of options.earlier ?? []) {
    exact.add(text.trim())
    normalized.add(normalizedPromptKey(text))
  }
  const kept: string[] = []
  const dropped = noDrops()
  for (const raw of candidates) {
    const text = raw.trim()
    const key = normalizedPromptKey(text)
    const reason: DropReason | undefined =
      lengthProblem(text, options.limits) ??
      (exact.has(text) ? "duplicate_exact" : normalized.has(key) ? "duplicate_normalized" : undefined) ??
      (options.evalIndex && isContaminated(text, options.evalIndex) ? "contaminated" : undefined)
    if (reason) {
      dropped[reason]++
      continue
    }
    exact.add(text)
    normalized.add(key)
    kept.push(text)
  }
  return { kept, dropped }
}
