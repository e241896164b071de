import { LocalGenerator } from "../../models/localGenerator.js"
import type { GenerationParams } from "../../models/localGenerator.js"
import { sampleSeed } from "../../core/seeds.js"

/** Sampling used by every peer: plain top-k 50 at temperature 1 (what all three implement alike). */
export const BENCH_SAMPLING = { temperature: 1, top_k: 50, top_p: 1, min_p: 0, repetition_penalty: 1 } as const

/** Seeds of `n` samples of prompt `p` in round `round`. */
export const benchSeeds = (p: number, n: number, round = 0) =>
  Array.from({ length: n }, (_, i) => sampleSeed({ seed: 42, round, promptId: `bench-${p}`, sampleIndex: i }))

/** Timing of one generation call. */
export interface Timed {
  readonly seconds: number
  readonly tokens: number
  readonly firstTokenSeconds: number
}

/** Runs winnow's generator (in this thread) on token-id prompts with `n` samples each. */
export const runOurs = async (
  generator: LocalGenerator,
  prompts: readonly number[][],
  n: number,
  params: GenerationParams,
  round = 0
): Promise<Timed> => {
  const started = performance.now()
  let first = 0
  const samples = await generator.generateIds(prompts, prompts.map((_, p) => benchSeeds(p, n, round)), params, {
    onFirstToken: () => {
      if (first === 0) first = performance.now()
    }
  })
  const seconds = (performance.now() - started) / 1000
  return { seconds, tokens: samples.reduce((t, s) => t + s.tokenCount, 0), firstTokenSeconds: (first - started) / 1000 }
}
