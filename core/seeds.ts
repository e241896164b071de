import { createHash } from "node:crypto"
import { Rng } from "./rng.js"

/**
 * Every seed winnow derives, in one place. Each is a pure function of its coordinates, so the
 * same campaign (or the same serve request) draws the same numbers on every machine and retry.
 */

/** A 128-bit seed for one `Rng` (sfc32). */
export type Seed128 = [number, number, number, number]

const seed128 = (text: string): Seed128 => {
  const digest = createHash("sha256").update(text).digest()
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]
}

/** Coordinates of one sample of a campaign. */
export interface SampleCoordinates {
  readonly seed: number
  readonly round: number
  readonly promptId: string
  readonly sampleIndex: number
}

/** The seed of one generated sample: (campaign seed, round, prompt id, sample index). */
export const sampleSeed = (at: SampleCoordinates): Seed128 =>
  seed128(`winnow/sample/v1\0${at.seed}\0${at.round}\0${at.promptId}\0${at.sampleIndex}`)

/** The seeds of a prompt's N samples in a round. */
export const promptSeeds = (seed: number, round: number, promptId: string, n: number): Seed128[] =>
  Array.from({ length: n }, (_, sampleIndex) => sampleSeed({ seed, round, promptId, sampleIndex }))

/** The integer seed an HTTP request carries for a sample seed: 31 bits, accepted by every server. */
export const httpSeed = (seed: Readonly<Seed128>): number => seed[0] >>> 1

/**
 * A uniform number in [0, 1) for the `draw`-th pick of selection on one prompt, from (campaign
 * seed, round, prompt id, draw): the same campaign always draws the same rejected samples.
 */
export const selectionDraw = (seed: number, round: number, promptId: string, draw: number): number =>
  Number.parseInt(createHash("sha256").update(`select/${seed}/${round}/${promptId}/${draw}`).digest("hex").slice(0, 8), 16) / 2 ** 32

/**
 * The per-choice seeds of a `winnow serve` request: choice i draws from a hash of (request seed,
 * i), so the same request with the same `seed` gives the same choices, whatever else the server does.
 */
export const choiceSeeds = (seed: number, n: number): Seed128[] =>
  Array.from({ length: n }, (_, i) => seed128(`winnow/serve/v1\0${seed}\0${i}`))

/**
 * A stream of uniform draws in [0, 1) for a named purpose (e.g. the prompt stage) and its
 * coordinates: the same purpose and coordinates always draw the same numbers.
 */
export const seededUniform = (purpose: string, ...parts: ReadonlyArray<string | number>): (() => number) => {
  const rng = new Rng(seed128(`winnow/${purpose}/v1\0${parts.join("\0")}`))
  return () => rng.next()
}

/**
 * The order of a record (or sample) in a round's review sample: a hex key from (campaign seed,
 * round, id). Sorting by it draws the same seeded sample on every machine and retry.
 */
export const reviewOrderKey = (seed: number, round: number, id: string): string =>
  createHash("sha256").update(`winnow/review/v1\0${seed}\0${round}\0${id}`).digest("hex")
