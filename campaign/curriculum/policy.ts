import { type CurriculumState, type PromptStats, statsById, tallyOf } from "./passRates.js"

/**
 * The curriculum policy: from the pass rates of the rounds so far, which prompts the next round
 * samples, which get a hinted copy, the round's score threshold and the difficulty of newly
 * generated problems. Pure and deterministic, so a workflow may call it.
 */

/** Drop solved prompts: those whose every sample passed in the last round they were sampled. */
export interface DropSolved {
  /** Also drop prompts whose pass rate over all rounds is at least this… */
  readonly pass_rate?: number
  /** …over at least this many samples (default 8). */
  readonly min_samples?: number
}

/** Score thresholds rising by round: `start` in round 1, `step` more each round, at most `max`. */
export interface ThresholdSchedule {
  readonly start: number
  readonly step: number
  readonly max: number
}

/**
 * Difficulty that follows the model: up by one after a round whose pass rate exceeded `target`,
 * down by one after a round below `floor`, from `start` (default 1), within [`min`, `max`]
 * (default 1, unbounded).
 */
export interface RaiseDifficulty {
  readonly target: number
  readonly floor: number
  readonly start?: number
  readonly min?: number
  readonly max?: number
}

/** The curriculum part of a spec; every policy is off unless named. */
export interface CurriculumOptions {
  readonly drop_solved?: boolean | DropSolved
  /** Give prompts whose last round had no passing sample a hinted copy next round (STaR). */
  readonly hint_unsolved?: boolean
  /** Stop sampling a prompt once this many records were kept from it over all rounds. */
  readonly max_records_per_prompt?: number
  readonly threshold_schedule?: ThresholdSchedule
  readonly raise_difficulty?: RaiseDifficulty
  /**
   * Sample at most this many of the prompts left after the drops each round, those sampled least
   * so far first (in the prompts' order): a large pool is worked through a fresh slice at a time,
   * and once every prompt was sampled the rounds go round it again.
   */
  readonly prompts_per_round?: number
}

/** Default `drop_solved.min_samples`. */
export const DROP_SOLVED_MIN_SAMPLES = 8

/** What the next round does, and what the policy left out and why (for the round statistics). */
export interface RoundPlan {
  readonly round: number
  /** Prompt ids to sample as written, in the prompts' order. */
  readonly sample: string[]
  /** Prompt ids (all also in `sample`) whose hinted copy (`hintedPrompt`) is sampled too. */
  readonly hinted: string[]
  /** The round's score threshold, with `threshold_schedule`. */
  readonly threshold?: number
  /** The difficulty of problems generated for the round, with `raise_difficulty`. */
  readonly difficulty?: number
  /** Prompts dropped, counted under the first reason that applies: capped, then solved. */
  readonly dropped: { readonly capped: number; readonly solved: number; readonly unscheduled?: number }
  /** Unsolved prompts that got no hint for lack of a reference answer. */
  readonly unhintable: number
}

/** The threshold of a round (rounds count from 1): `min(max, start + step × (round − 1))`. */
export const thresholdForRound = (schedule: ThresholdSchedule, round: number): number =>
  Math.min(schedule.max, schedule.start + schedule.step * Math.max(0, round - 1))

/**
 * The difficulty for a round: `start`, moved by one after each earlier round whose pass rate was
 * above `target` or below `floor` (rounds without samples move nothing), kept within [min, max].
 * Derived from the per-round totals alone, so it needs no state of its own.
 */
export const difficultyForRound = (state: CurriculumState, options: RaiseDifficulty, round: number): number => {
  const min = options.min ?? 1
  const max = options.max ?? Number.POSITIVE_INFINITY
  let difficulty = Math.min(max, Math.max(min, options.start ?? min))
  for (const [r, samples, passed] of state.rounds) {
    if (r >= round || samples === 0) continue
    const rate = passed / samples
    if (rate > options.target) difficulty = Math.min(max, difficulty + 1)
    else if (rate < options.floor) difficulty = Math.max(min, difficulty - 1)
  }
  return difficulty
}

const checkOptions = (options: CurriculumOptions): void => {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new RangeError(`curriculum.${field}: expected ${expected}, got ${JSON.stringify(value)}`)
  }
  const rate = (field: string, value: number | undefined): void => {
    if (value !== undefined && !(value >= 0 && value <= 1)) fail(field, value, "a rate in [0, 1]")
  }
  const drop = options.drop_solved
  if (typeof drop === "object") {
    rate("drop_solved.pass_rate", drop.pass_rate)
    if (drop.min_samples !== undefined && !(Number.isInteger(drop.min_samples) && drop.min_samples >= 1)) fail("drop_solved.min_samples", drop.min_samples, "an integer ≥ 1")
  }
  const cap = options.max_records_per_prompt
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) fail("max_records_per_prompt", cap, "an integer ≥ 1")
  const schedule = options.threshold_schedule
  if (schedule) {
    if (!Number.isFinite(schedule.start) || !Number.isFinite(schedule.max) || schedule.start > schedule.max) fail("threshold_schedule", schedule, "finite start ≤ max")
    if (!(schedule.step >= 0)) fail("threshold_schedule.step", schedule.step, "a step ≥ 0 (thresholds rise)")
  }
  const raise = options.raise_difficulty
  if (raise) {
    rate("raise_difficulty.target", raise.target)
    rate("raise_difficulty.floor", raise.floor)
    if (!(raise.floor < raise.target)) fail("raise_difficulty", raise, "floor below target")
    const min = raise.min ?? 1
    if (!(Number.isInteger(min) && min >= 1)) fail("raise_difficulty.min", raise.min, "an integer ≥ 1")
    if (raise.max !== undefined && !(Number.isInteger(raise.max) && raise.max >= min)) fail("raise_difficulty.max", raise.max, `an integer ≥ min (${min})`)
  }
}

const isSolved = (stats: PromptStats, rule: true | DropSolved): boolean => {
  if (stats.lastSamples > 0 && stats.lastPasses === stats.lastSamples) return true
  if (rule === true || rule.pass_rate === undefined) return false
  return stats.attempts >= (rule.min_samples ?? DROP_SOLVED_MIN_SAMPLES) && stats.passes / stats.attempts >= rule.pass_rate
}

/**
 * Plans round `round` over the campaign's prompts: drops capped and solved prompts, samples the
 * rest, and gives unsolved ones (no passing sample in the last round they were sampled) a hinted
 * copy when they have a reference. Prompts the state has not seen are sampled. Throws a
 * RangeError naming the option when one is out of range.
 */
export const planNextRound = (
  state: CurriculumState,
  prompts: ReadonlyArray<{ readonly id: string; readonly reference?: string }>,
  options: CurriculumOptions,
  round: number
): RoundPlan => {
  checkOptions(options)
  const stats = statsById(state)
  const dropSolved = options.drop_solved === false ? undefined : options.drop_solved
  const sample: string[] = []
  const hinted: string[] = []
  const dropped = { capped: 0, solved: 0, unscheduled: 0 }
  let unhintable = 0
  for (const prompt of scheduled(prompts, stats, options, dropped)) {
    const seen = stats.get(prompt.id)
    if (seen && options.max_records_per_prompt !== undefined && seen.records >= options.max_records_per_prompt) {
      dropped.capped++
      continue
    }
    if (seen && dropSolved && isSolved(seen, dropSolved)) {
      dropped.solved++
      continue
    }
    sample.push(prompt.id)
    if (!options.hint_unsolved || !seen || seen.lastSamples === 0 || seen.lastPasses > 0) continue
    if (prompt.reference !== undefined && prompt.reference.trim() !== "") hinted.push(prompt.id)
    else unhintable++
  }
  return {
    round,
    sample,
    hinted,
    ...(options.threshold_schedule ? { threshold: thresholdForRound(options.threshold_schedule, round) } : {}),
    ...(options.raise_difficulty ? { difficulty: difficultyForRound(state, options.raise_difficulty, round) } : {}),
    dropped: { capped: dropped.capped, solved: dropped.solved, ...(dropped.unscheduled > 0 ? { unscheduled: dropped.unscheduled } : {}) },
    unhintable
  }
}

/**
 * The prompts a round may sample under `prompts_per_round`: the least-sampled first, in the
 * prompts' order (a prompt the caps or `drop_solved` will leave out does not take a place).
 */
const scheduled = <P extends { readonly id: string }>(
  prompts: readonly P[],
  stats: ReadonlyMap<string, PromptStats>,
  options: CurriculumOptions,
  dropped: { unscheduled: number }
): readonly P[] => {
  const limit = options.prompts_per_round
  if (limit === undefined) return prompts
  const dropSolved = options.drop_solved === false ? undefined : options.drop_solved
  const left = prompts.filter((p) => {
    const seen = stats.get(p.id)
    if (!seen) return true
    if (options.max_records_per_prompt !== undefined && seen.records >= options.max_records_per_prompt) return false
    return !(dropSolved && isSolved(seen, dropSolved))
  })
  if (left.length <= limit) return prompts
  const eligible = new Set(left)
  const order = left.map((p, i) => ({ p, i, attempts: stats.get(p.id)?.attempts ?? 0 })).sort((a, b) => a.attempts - b.attempts || a.i - b.i)
  const chosen = new Set(order.slice(0, limit).map((x) => x.p.id))
  dropped.unscheduled += left.length - limit
  return prompts.filter((p) => chosen.has(p.id) || !eligible.has(p))
}

/**
 * How many more records a prompt may yield under `max_records_per_prompt` (undefined: no cap).
 * Use to lower the selection's k for a prompt near its cap.
 */
export const recordsLeft = (state: CurriculumState, promptId: string, options: CurriculumOptions): number | undefined => {
  const cap = options.max_records_per_prompt
  if (cap === undefined) return undefined
  return Math.max(0, cap - (tallyOf(state, promptId)?.records ?? 0))
}
