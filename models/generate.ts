import { InferenceFailed } from "../core/errors.js"
import { type DecoderSession, type KvCache, selectRows } from "./decoderSession.js"
import { prefillPrompts } from "./prefill.js"
import { Rng } from "../core/rng.js"
import { type SamplingParams, sampleToken, type TokenAlternative } from "./sampling.js"
import { StepCollector } from "./stepCollector.js"

/** Sampling parameters and the new-token limit of one prompt group. */
export type GroupParams = SamplingParams & { readonly max_new_tokens: number }

/**
 * One prompt of a generation batch: its token ids, one seed per sample to draw, and optionally
 * its own sampling parameters, EOS set and stop-string check (else the request's).
 */
export interface PromptGroup {
  readonly ids: readonly number[]
  readonly seeds: ReadonlyArray<readonly [number, number, number, number]>
  readonly params?: GroupParams
  readonly eos?: ReadonlySet<number>
  readonly findStop?: (tokens: readonly number[]) => Promise<number>
}

/** Everything a batch generation needs besides the model. */
export interface GenerationRequest {
  readonly groups: readonly PromptGroup[]
  readonly params: GroupParams
  readonly eos: ReadonlySet<number>
  readonly padId: number
  /** Returns the index where a stop string begins in the decoded tokens, or -1; omit when there are no stop strings. */
  readonly findStop?: (tokens: readonly number[]) => Promise<number>
  /** The model's position limit (max_position_embeddings): a row also ends ("length") when it reaches it. */
  readonly maxPositions?: number
  /** Most logits one prefill call may return (graphs without `num_logits_to_keep`); see `prefillPrompts`. */
  readonly maxPrefillLogits?: number
  /** Called once with the time the first token of every row was sampled (after the shared prefill). */
  readonly onFirstToken?: () => void
  /** Called after every step with the tokens it sampled (EOS left out), for streaming. */
  readonly onStep?: (tokens: readonly StepToken[]) => void
  /** Asked before every decode step; true ends the generation with `InferenceFailed` ("cancelled"). */
  readonly cancelled?: () => boolean
}

/** One token sampled in a step: which group and sample it extends. */
export interface StepToken {
  readonly group: number
  readonly sample: number
  readonly token: number
  readonly logprob: number
  readonly alternatives?: readonly TokenAlternative[]
}

/** Why a sample ended. */
export type FinishReason = "eos" | "length" | "stop"

/** One generated sample with the statistics recorded while sampling it. */
export interface GeneratedSample {
  readonly group: number
  readonly sample: number
  readonly tokens: number[]
  readonly logprobs: number[]
  readonly entropies: number[]
  /** with `top_logprobs`: each step's most likely tokens. */
  readonly alternatives?: Array<readonly TokenAlternative[]>
  finish: FinishReason
  /** with finish "stop": character offset of the stop string in the decoded text. */
  stopAt?: number
}

interface Row {
  readonly out: GeneratedSample
  readonly params: GroupParams
  readonly eos: ReadonlySet<number>
  readonly findStop: ((tokens: readonly number[]) => Promise<number>) | undefined
  readonly rng: Rng
  readonly seen: Set<number> | undefined
  /** left padding of this row's prompt inside the batch. */
  readonly pad: number
  position: number
  /** most new tokens this row may get: max_new_tokens, or fewer where the position limit is nearer */
  readonly limit: number
}

/**
 * Samples every group's N responses as one batch: one left-padded prefill for all prompts, the
 * first token of every sample drawn from the prefill's logits, the prompt cache fanned out to the
 * samples still running (one copy), then batched decode steps that drop rows as they finish
 * (compacting the cache in place, moving only rows whose position changes). Each row's draws
 * come only from its own seed, so results do not depend on batching; each group may bring its
 * own sampling parameters, EOS set and stop strings.
 */
export const generateBatch = async (model: DecoderSession, request: GenerationRequest): Promise<GeneratedSample[]> => {
  const { layout } = model
  const { groups } = request
  if (groups.length === 0) return []
  const prefill = await prefillPrompts(model, groups.map((g) => g.ids), request.padId, request.maxPrefillLogits)
  const { width } = prefill
  const rowOf: number[] = []
  const rows: Row[] = []
  groups.forEach((group, g) => {
    const params = group.params ?? request.params
    const eos = group.eos ?? request.eos
    const findStop = group.findStop ?? request.findStop
    group.seeds.forEach((seed, s) => {
      rowOf.push(g)
      rows.push({
        out: { group: g, sample: s, tokens: [], logprobs: [], entropies: [], ...(params.top_logprobs ? { alternatives: [] } : {}), finish: "length" },
        params,
        eos,
        findStop,
        rng: new Rng(seed),
        seen: params.repetition_penalty !== 1 ? new Set(group.ids) : undefined,
        pad: width - group.ids.length,
        position: group.ids.length,
        limit: Math.min(params.max_new_tokens, (request.maxPositions ?? Infinity) - group.ids.length)
      })
    })
  })
  if (rows.length === 0) return []
  let cache: KvCache = prefill.cache
  /** For each active row, its row in `cache`: the prompt's row until the first decode step fans it out. */
  let cacheRows = rowOf
  let logits = prefill.logits
  let stride = prefill.seq
  let source = rowOf
  let active = rows
  const finished: GeneratedSample[] = []
  const collector = new StepCollector()
  for (let step = 0; ; step++) {
    const keep: number[] = []
    const stepTokens: StepToken[] = []
    const stopChecks: Array<Promise<void>> = []
    for (let r = 0; r < active.length; r++) {
      const row = active[r]!
      const offset = (source[r]! * stride + stride - 1) * layout.vocab
      const pick = sampleToken(logits, offset, layout.vocab, row.params, row.rng, row.seen)
      if (row.eos.has(pick.token)) {
        row.out.finish = "eos"
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
      keep.push(r)
    }
    if (step === 0) request.onFirstToken?.()
    request.onStep?.(stepTokens)
    await Promise.all(stopChecks)
    const alive = keep.filter((r) => active[r]!.out.finish === "length" && active[r]!.out.tokens.length < active[r]!.limit)
    const living = new Set(alive)
    active.forEach((row, r) => living.has(r) || finished.push(row.out))
    if (alive.length === 0) break
    cacheRows = alive.map((r) => cacheRows[r]!)
    if (!isIdentity(cacheRows) || cacheRows.length !== batchOf(cache)) cache = selectRows(cache, cacheRows, true)
    active = alive.map((r) => active[r]!)
    const total = cache.length + 1
    const batch = active.length
    const stepMask = new BigInt64Array(batch * total).fill(1n)
    const stepIds = new BigInt64Array(batch)
    const stepPositions = new BigInt64Array(batch)
    active.forEach((row, i) => {
      stepMask.fill(0n, i * total, i * total + row.pad)
      stepIds[i] = BigInt(row.out.tokens[row.out.tokens.length - 1]!)
      stepPositions[i] = BigInt(row.position++)
    })
    if (request.cancelled?.()) throw new InferenceFailed({ model: "(generation)", reason: "cancelled" })
    const started = performance.now()
    const next = await model.forward({ batch, inputIds: stepIds, attentionMask: stepMask, positionIds: stepPositions, past: cache, lastOnly: true })
    cache = next.cache
    collector.afterStep(cacheBytes(cache), performance.now() - started)
    logits = next.logits
    stride = next.seq
    source = identityRows(batch)
    cacheRows = source
  }
  return finished.sort((a, b) => a.group - b.group || a.sample - b.sample)
}

const identityRows = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

const isIdentity = (rows: readonly number[]): boolean => rows.every((r, i) => r === i)

const cacheBytes = (cache: KvCache): number =>
  Object.values(cache.tensors).reduce((sum, tensor) => sum + (tensor.data as ArrayBufferView).byteLength, 0)

const batchOf = (cache: KvCache): number => Number(Object.values(cache.tensors)[0]!.dims[0])
