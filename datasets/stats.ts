import type { ScoreStats } from "./manifest.js"

/**
 * Collects combined scores (8 bytes each, in a growing typed array) and summarizes them.
 * Use while streaming a version's records to fill `score_stats`.
 */
export class ScoreAccumulator {
  private values = new Float64Array(1024)
  private count = 0
  private sum = 0

  /** Adds one record's combined score. */
  add(score: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.count++] = score
    this.sum += score
  }

  /** mean, min, max and nearest-rank p50/p90; `null` when no score was added. */
  summary(): ScoreStats | null {
    if (this.count === 0) return null
    const sorted = this.values.slice(0, this.count).sort()
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * this.count) - 1)]
    return {
      mean: this.sum / this.count,
      min: sorted[0],
      max: sorted[this.count - 1],
      p50: rank(0.5),
      p90: rank(0.9)
    }
  }
}
