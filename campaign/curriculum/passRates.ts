/**
 * Per-prompt pass rates across the rounds of a campaign: what the curriculum policy reads to pick
 * the next round's prompts. The state is plain JSON (arrays, not objects, per prompt) so it can
 * travel in a workflow input while small, or be written to the store as one file and referenced
 * when not (`curriculumFitsInline`).
 */

/**
 * One prompt's tally. Attempts and passes count samples of the prompt as written (hinted copies'
 * samples are not the model solving it); `lastRound` is the last round it was sampled as written
 * (-1: never) with that round's samples and passes; `hintedRound` the last round a hinted copy
 * was sampled (-1: never); `records` the records kept from it so far, hinted copies included.
 */
export type PromptTally = readonly [
  id: string,
  attempts: number,
  passes: number,
  lastRound: number,
  lastSamples: number,
  lastPasses: number,
  hintedRound: number,
  records: number
]

/** One round's totals over samples of prompts as written: [round, samples, passed]. */
export type RoundTotals = readonly [round: number, samples: number, passed: number]

/** The curriculum's state: prompt tallies sorted by id, and per-round totals in round order. */
export interface CurriculumState {
  readonly version: 1
  readonly prompts: readonly PromptTally[]
  readonly rounds: readonly RoundTotals[]
}

/** What one round did with one prompt (or with its hinted copy, when `hinted`). */
export interface RoundResult {
  readonly promptId: string
  readonly samples: number
  /** Samples that passed (verifier correct, or above the round's threshold). */
  readonly passed: number
  /** Records kept from these samples. */
  readonly kept?: number
  readonly hinted?: boolean
}

/** The state before the first round. */
export const emptyCurriculum = (): CurriculumState => ({ version: 1, prompts: [], rounds: [] })

const count = (value: unknown, field: string): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new RangeError(`${field} must be an integer ≥ 0, got ${JSON.stringify(value)}`)
  return value
}

const byId = (a: PromptTally, b: PromptTally): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

/**
 * Adds one round's results to the state and returns the new state (the input is not changed).
 * Call it once per round, or once per shard of a round (results for the state's latest round add
 * to it); an earlier round than the latest is refused, as are passes above samples.
 */
export const updatePassRates = (state: CurriculumState, results: readonly RoundResult[], round: number): CurriculumState => {
  if (!Number.isInteger(round) || round < 0) throw new RangeError(`updatePassRates: round must be an integer ≥ 0, got ${round}`)
  const latest = state.rounds.at(-1)
  if (latest && round < latest[0]) throw new RangeError(`updatePassRates: round ${round} is before the state's latest round ${latest[0]}`)
  const tallies = new Map(state.prompts.map((t) => [t[0], [...t] as [string, number, number, number, number, number, number, number]]))
  let samples = latest?.[0] === round ? latest[1] : 0
  let passed = latest?.[0] === round ? latest[2] : 0
  results.forEach((result, i) => {
    const at = `updatePassRates: results[${i}]`
    const n = count(result.samples, `${at}.samples`)
    const p = count(result.passed, `${at}.passed`)
    if (p > n) throw new RangeError(`${at}.passed (${p}) is more than its samples (${n})`)
    const tally = tallies.get(result.promptId) ?? [result.promptId, 0, 0, -1, 0, 0, -1, 0]
    tallies.set(result.promptId, tally)
    tally[7] += count(result.kept ?? 0, `${at}.kept`)
    if (result.hinted) {
      tally[6] = round
      return
    }
    if (n === 0) return
    tally[1] += n
    tally[2] += p
    if (tally[3] === round) {
      tally[4] += n
      tally[5] += p
    } else {
      tally[3] = round
      tally[4] = n
      tally[5] = p
    }
    samples += n
    passed += p
  })
  const rounds = latest?.[0] === round ? state.rounds.slice(0, -1) : state.rounds
  return { version: 1, prompts: [...tallies.values()].sort(byId), rounds: [...rounds, [round, samples, passed]] }
}

/** A prompt's tally with names, and its pass rate (undefined before any sample). */
export interface PromptStats {
  readonly attempts: number
  readonly passes: number
  readonly passRate: number | undefined
  readonly lastRound: number
  readonly lastSamples: number
  readonly lastPasses: number
  readonly hintedRound: number
  readonly records: number
}

/** Names the fields of a tally. */
export const statsOf = (tally: PromptTally): PromptStats => {
  const [, attempts, passes, lastRound, lastSamples, lastPasses, hintedRound, records] = tally
  return { attempts, passes, passRate: attempts === 0 ? undefined : passes / attempts, lastRound, lastSamples, lastPasses, hintedRound, records }
}

/** One prompt's stats, found by binary search over the sorted tallies; undefined if never seen. */
export const tallyOf = (state: CurriculumState, id: string): PromptStats | undefined => {
  let lo = 0
  let hi = state.prompts.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const at = state.prompts[mid]![0]
    if (at === id) return statsOf(state.prompts[mid]!)
    if (at < id) lo = mid + 1
    else hi = mid - 1
  }
  return undefined
}

/** Every prompt's stats by id; build once per use, not per prompt. */
export const statsById = (state: CurriculumState): Map<string, PromptStats> => new Map(state.prompts.map((t) => [t[0], statsOf(t)]))

/** A round's pass rate over samples of prompts as written; undefined when it had none or is unknown. */
export const roundPassRate = (state: CurriculumState, round: number): number | undefined => {
  const totals = state.rounds.find((r) => r[0] === round)
  return totals && totals[1] > 0 ? totals[2] / totals[1] : undefined
}

/** The state as one line of JSON; equal states give equal text, so its hash can address a file. */
export const encodeCurriculum = (state: CurriculumState): string => JSON.stringify({ version: state.version, prompts: state.prompts, rounds: state.rounds })

const isCount = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0
const isRound = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= -1

/** Reads `encodeCurriculum`'s text back, checking its shape; throws naming the first bad entry. */
export const decodeCurriculum = (text: string): CurriculumState => {
  const value = JSON.parse(text) as { version?: unknown; prompts?: unknown; rounds?: unknown }
  if (value?.version !== 1 || !Array.isArray(value.prompts) || !Array.isArray(value.rounds)) {
    throw new RangeError("decodeCurriculum: expected {version: 1, prompts: [...], rounds: [...]}")
  }
  value.prompts.forEach((t: unknown, i) => {
    const ok = Array.isArray(t) && t.length === 8 && typeof t[0] === "string" && [1, 2, 4, 5, 7].every((k) => isCount(t[k])) && isRound(t[3]) && isRound(t[6])
    if (!ok) throw new RangeError(`decodeCurriculum: prompts[${i}] is not [id, attempts, passes, lastRound, lastSamples, lastPasses, hintedRound, records]: ${JSON.stringify(t)}`)
  })
  value.rounds.forEach((r: unknown, i) => {
    if (!(Array.isArray(r) && r.length === 3 && r.every(isCount))) throw new RangeError(`decodeCurriculum: rounds[${i}] is not [round, samples, passed]: ${JSON.stringify(r)}`)
  })
  return value as CurriculumState
}

/**
 * The largest encoded state to pass inline in a workflow input. Temporal warns from 256 KiB
 * per payload and the input also carries the spec; a tally costs about 30 bytes plus its id.
 */
export const CURRICULUM_INLINE_BYTES = 64 * 1024

const utf8Length = (text: string): number => {
  let bytes = 0
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4
  }
  return bytes
}

/**
 * True when the encoded state is small enough to travel inline; otherwise write
 * `encodeCurriculum(state)` to the store and pass its reference (the claim-check pattern).
 */
export const curriculumFitsInline = (state: CurriculumState, limitBytes = CURRICULUM_INLINE_BYTES): boolean =>
  utf8Length(encodeCurriculum(state)) <= limitBytes
