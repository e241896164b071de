import { describe, expect, it } from "vitest"
import { type RoundStatsPart, RoundStatsBuilder, roundStats, type StatsRecord, type StatsSample } from "./roundStats.js"

const TEXTS = ["你好世界", "hello there friend", "こんにちは", "重复重复重复", "ＡＢＣ１２３ abc", "", "中文 and English 混合"]

/** A round's rows, made up deterministically: 3 scorers, missing scores, failed and cut samples, texts in several scripts. */
const rows = (count: number): { samples: StatsSample[]; accepted: StatsRecord[] } => {
  const samples = Array.from({ length: count }, (_, i): StatsSample => ({
    group: Math.floor(i / 4),
    scores: { r: i % 7 === 0 ? Number.NaN : (i * 37) % 11, q: (i * 13) % 5, z: i % 3 },
    score: i % 9 === 0 ? Number.NEGATIVE_INFINITY : ((i * 29) % 17) / 3,
    passed: i % 9 !== 0,
    text: TEXTS[i % TEXTS.length]!,
    tokens: i % 5 === 0 ? undefined! : i % 40,
    finish: i % 6 === 0 ? "length" : "eos",
    ...(i % 10 === 0 ? { truncated: ["q"] } : {}),
    ...(i % 9 === 0 ? { failed: ["z"] } : {})
  }))
  const accepted = samples.filter((_, i) => i % 4 === 1).map((s): StatsRecord => ({ scores: s.scores, score: s.score, text: s.text!, tokens: s.tokens }))
  return { samples, accepted }
}

describe("round statistics from shard parts", () => {
  it("gives, from parts sent through JSON and added in shard order, what every row at once gives", () => {
    const { samples, accepted } = rows(203)
    const whole = roundStats(2, ["r", "q", "z"], samples, accepted)
    const merged = new RoundStatsBuilder(2, ["r", "q", "z"])
    for (const [from, to, keptFrom, keptTo] of [[0, 80, 0, 20], [80, 81, 20, 20], [81, 203, 20, accepted.length]] as const) {
      const part = new RoundStatsBuilder(2, ["r", "q", "z"])
      part.addSamples(samples.slice(from, to))
      part.addAccepted(accepted.slice(keptFrom, keptTo))
      merged.addPart(JSON.parse(JSON.stringify(part.part())) as RoundStatsPart)
    }
    expect(JSON.stringify(merged.result())).toBe(JSON.stringify(whole))
    expect(whole.samples).toBe(203)
    expect(whole.distinct_2).toBeGreaterThan(0)
  })

  it("reads a scorer a part does not know as missing", () => {
    const { samples, accepted } = rows(12)
    const part = new RoundStatsBuilder(1, ["r"])
    part.addSamples(samples)
    part.addAccepted(accepted)
    const merged = new RoundStatsBuilder(1, ["r", "new"])
    merged.addPart(JSON.parse(JSON.stringify(part.part())) as RoundStatsPart)
    const stats = merged.result()
    expect(stats.scores.new).toMatchObject({ all: null, accepted: null, best_of_n_gain: null })
    expect(stats.scores.r).toEqual(roundStats(1, ["r"], samples, accepted).scores.r)
  })
})
