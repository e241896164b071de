import { sha256 } from "../../core/hash.js"

/**
 * Seeded uniform draws in [0, 1) for the prompt stage: sfc32 (the generator `models/rng.ts`
 * uses) seeded with the first 128 bits of sha256 of the seed's parts. Use one per operator call,
 * seeded from (campaign seed, round, operator), so a re-run draws the same prompts.
 */
export const seededUniform = (...parts: ReadonlyArray<string | number>): (() => number) => {
  const digest = sha256(`winnow/prompt-stage/v1\0${parts.join("\0")}`)
  let [a, b, c, d] = [0, 8, 16, 24].map((at) => Number.parseInt(digest.slice(at, at + 8), 16) | 0) as [number, number, number, number]
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  return next
}

/** A uniform integer in [min, max] (both inclusive) from a uniform draw. */
export const uniformInt = (uniform: () => number, min: number, max: number): number =>
  min + Math.floor(uniform() * (max - min + 1))

/**
 * Up to `count` items drawn without replacement, in draw order. Use to pick the in-context
 * examples of a Self-Instruct request from a pool of seed prompts.
 */
export const sampleWithoutReplacement = <T>(items: readonly T[], count: number, uniform: () => number): T[] => {
  const pool = [...items]
  const out: T[] = []
  while (out.length < count && pool.length > 0) out.push(pool.splice(uniformInt(uniform, 0, pool.length - 1), 1)[0]!)
  return out
}
