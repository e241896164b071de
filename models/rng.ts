import { createHash } from "node:crypto"

/**
 * A small, fast, seedable PRNG (sfc32). Use one per sample so every random draw is a pure
 * function of (campaign seed, round, prompt id, sample index).
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: readonly [number, number, number, number]) {
    ;[this.a, this.b, this.c, this.d] = seed.map((x) => x >>> 0) as [number, number, number, number]
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Next uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }
}

/**
 * Derives the 128-bit seed of one sample from its coordinates. The same coordinates always
 * give the same seed, on every machine and every retry.
 */
export const sampleSeed = (parts: {
  readonly seed: number
  readonly round: number
  readonly promptId: string
  readonly sampleIndex: number
}): [number, number, number, number] => {
  const digest = createHash("sha256")
    .update(`winnow/sample/v1\0${parts.seed}\0${parts.round}\0${parts.promptId}\0${parts.sampleIndex}`)
    .digest()
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]
}
