/**
 * A small, fast, seedable PRNG (sfc32). Use one per sample, seeded by `core/seeds.ts`, so every
 * random draw is a pure function of (campaign seed, round, prompt id, sample index).
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
