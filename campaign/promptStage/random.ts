import { seededUniform as uniformFor } from "../../core/seeds.js"

/**
 * Seeded uniform draws in [0, 1) for the prompt stage (`core/seeds.ts`). Use one per operator
 * call, seeded from (campaign seed, round, operator), so a re-run draws the same prompts.
 */
export const seededUniform = (...parts: ReadonlyArray<string | number>): (() => number) => uniformFor("prompt-stage", ...parts)

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
