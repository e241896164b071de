import type { TextTokenizer } from "./tokenizer.js"

/** Earliest position at which any of `needles` occurs in `text`, or -1. */
export const firstIndexOf = (text: string, needles: readonly string[]): number =>
  needles.reduce((best, needle) => {
    const at = text.indexOf(needle)
    return at >= 0 && (best < 0 || at < best) ? at : best
  }, -1)

/**
 * A stop-string check for the generation loop, or undefined when there are no stop strings.
 * Each step decodes only a tail window of the sample (a stop string of c characters spans at
 * most 4c byte-level tokens), and the whole text only once a stop string has appeared in it, so
 * the cost per step does not grow with the sample's length.
 */
export const stopFinder = (
  tokenizer: TextTokenizer,
  stops: readonly string[]
): ((tokens: readonly number[]) => Promise<number>) | undefined => {
  const needles = stops.filter((s) => s.length > 0)
  if (needles.length === 0) return undefined
  const window = 4 * Math.max(...needles.map((s) => s.length)) + 4
  return async (tokens) => {
    if (tokens.length > window) {
      const tail = await tokenizer.decode(tokens.slice(tokens.length - window))
      if (firstIndexOf(tail, needles) < 0) return -1
    }
    return firstIndexOf(await tokenizer.decode(tokens), needles)
  }
}
