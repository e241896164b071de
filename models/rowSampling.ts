import { Rng } from "../core/rng.js"
import type { GeneratedSample, GenerationRequest, GroupParams, PromptGroup, StepToken } from "./generate.js"
import { sampleToken } from "./sampling.js"

/** One sample being generated: what it has so far, how it samples, where it stands. */
export interface Row {
  readonly out: GeneratedSample
  readonly params: GroupParams
  readonly eos: ReadonlySet<number>
  readonly findStop: ((tokens: readonly number[]) => Promise<number>) | undefined
  readonly rng: Rng
  readonly seen: Set<number> | undefined
  /** left padding of this row inside the batch's cache (grows when a longer prompt joins). */
  pad: number
  position: number
  /** most new tokens this row may get: max_new_tokens, or fewer where the position limit is nearer */
  readonly limit: number
}

/** A row about to sample, and where its logits are. */
export interface RowLogits {
  readonly row: Row
  readonly logits: Float32Array
  readonly offset: number
}

/**
 * The samples of a generation's groups as they end: each group's samples go to `onGroupDone` (in
 * sample order) once its last row ends. Use in a decode loop, one per generation.
 */
export class GroupTally {
  readonly finished: GeneratedSample[] = []
  private readonly running: number[] = []
  private readonly done: GeneratedSample[][] = []

  constructor(private readonly onGroupDone?: (group: number, samples: GeneratedSample[]) => void) {}

  /** Groups opened so far (the next group's number). */
  get groups(): number {
    return this.done.length
  }

  /** The rows of `group` (number `index`), first tokens not yet sampled; `pad` is the prompt's left padding in the cache. */
  open(group: PromptGroup, index: number, request: GenerationRequest, pad = 0): Row[] {
    const params = group.params ?? request.params
    this.running[index] = group.seeds.length
    this.done[index] = []
    return group.seeds.map((seed, s) => ({
      out: { group: index, sample: s, tokens: [], logprobs: [], entropies: [], ...(params.top_logprobs ? { alternatives: [] } : {}), finish: "length" },
      params,
      eos: group.eos ?? request.eos,
      findStop: group.findStop ?? request.findStop,
      rng: new Rng(seed),
      seen: params.repetition_penalty !== 1 ? new Set(group.ids) : undefined,
      pad,
      position: group.ids.length,
      limit: Math.min(params.max_new_tokens, (request.maxPositions ?? Infinity) - group.ids.length)
    }))
  }

  /** Records that `row` ended. */
  finish(row: Row): void {
    this.finished.push(row.out)
    const group = row.out.group
    this.done[group]!.push(row.out)
    if (--this.running[group]! === 0) this.onGroupDone?.(group, this.done[group]!.sort((a, b) => a.sample - b.sample))
  }

  /** Every finished sample, by group then sample. */
  sorted(): GeneratedSample[] {
    return this.finished.sort((a, b) => a.group - b.group || a.sample - b.sample)
  }
}

/**
 * One sampling step: draws each candidate's next token from its logits with its own seed, ends
 * rows at EOS, stop strings or their limit, streams the step's tokens (after `onFirstToken` on the
 * `first` step), and returns the candidates still running (whose last token is decoded next).
 */
export const sampleStep = async <L extends RowLogits>(candidates: readonly L[], vocab: number, request: GenerationRequest, tally: GroupTally, first: boolean): Promise<L[]> => {
  const keep: L[] = []
  const stepTokens: StepToken[] = []
  const stopChecks: Array<Promise<void>> = []
  for (const live of candidates) {
    const { row } = live
    const pick = sampleToken(live.logits, live.offset, vocab, row.params, row.rng, row.seen)
    if (row.eos.has(pick.token)) {
      row.out.finish = "eos"
      tally.finish(row)
      continue
    }
    row.out.tokens.push(pick.token)
    row.out.logprobs.push(pick.logprob)
    row.out.entropies.push(pick.entropy)
    if (pick.alternatives) row.out.alternatives?.push(pick.alternatives)
    if (request.onStep) {
      const { token, logprob, alternatives } = pick
      stepTokens.push({ group: row.out.group, sample: row.out.sample, token, logprob, ...(alternatives ? { alternatives } : {}) })
    }
    row.seen?.add(pick.token)
    if (row.findStop) {
      stopChecks.push(row.findStop(row.out.tokens).then((at) => {
        if (at < 0) return
        row.out.finish = "stop"
        row.out.stopAt = at
      }))
    }
    keep.push(live)
  }
  if (first) request.onFirstToken?.()
  request.onStep?.(stepTokens)
  await Promise.all(stopChecks)
  return keep.filter(({ row }) => {
    const going = row.out.finish === "length" && row.out.tokens.length < row.limit
    if (!going) tally.finish(row)
    return going
  })
}
