import { InferenceFailed } from "../core/errors.js"
import { type DecoderSession, joinRows, type KvCache, selectRows } from "./decoderSession.js"
import { prefillPrompts } from "./prefill.js"
import { GroupTally, type RowLogits, sampleStep } from "./rowSampling.js"
import type { SamplingParams, TokenAlternative } from "./sampling.js"
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
  /**
   * Continuous batching: asked after every decode step for groups that join the running batch
   * (numbered on after the groups already in it), told how many rows run and how long the cache is.
   */
  readonly admit?: (running: { readonly rows: number; readonly length: number }) => Promise<readonly PromptGroup[]>
  /** Called as soon as every sample of a group has ended, with its samples in order. */
  readonly onGroupDone?: (group: number, samples: GeneratedSample[]) => void
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

/** A row about to sample: where its logits are, and which row of which cache holds its past. */
interface Live extends RowLogits {
  readonly cacheRow: number
  /** its past is in the joining prefill's cache, not yet in the batch's */
  readonly joining: boolean
}

/** Groups just prefilled, whose rows sample their first tokens at the next step and then join the batch. */
interface Joining {
  readonly cache: KvCache
  readonly lives: Live[]
}

/**
 * Samples every group's N responses as one batch: one left-padded prefill for all prompts, the
 * first token of every sample drawn from the prefill's logits, the prompt cache fanned out to the
 * samples still running (one copy), then batched decode steps that drop rows as they finish
 * (compacting the cache in place, moving only rows whose position changes). Each row's draws
 * come only from its own seed, so results do not depend on batching; each group may bring its
 * own sampling parameters, EOS set and stop strings. With `admit`, groups that arrive while the
 * batch decodes are prefilled and join it at the next step (continuous batching).
 */
export const generateBatch = async (model: DecoderSession, request: GenerationRequest): Promise<GeneratedSample[]> => {
  if (request.groups.length === 0) return []
  const { vocab } = model.layout
  const tally = new GroupTally(request.onGroupDone)
  let joining: Joining | undefined = await prefillGroups(model, request, request.groups, tally)
  let lives: Live[] = []
  let cache: KvCache | undefined
  const collector = new StepCollector()
  for (let step = 0; ; step++) {
    const alive = await sampleStep(joining ? [...lives, ...joining.lives] : lives, vocab, request, tally, step === 0)
    if (alive.length === 0) break
    cache = gatherCache(cache, joining, alive)
    joining = undefined
    const total = cache.length + 1
    const batch = alive.length
    const stepMask = new BigInt64Array(batch * total).fill(1n)
    const stepIds = new BigInt64Array(batch)
    const stepPositions = new BigInt64Array(batch)
    alive.forEach(({ row }, i) => {
      stepMask.fill(0n, i * total, i * total + row.pad)
      stepIds[i] = BigInt(row.out.tokens[row.out.tokens.length - 1]!)
      stepPositions[i] = BigInt(row.position++)
    })
    if (request.cancelled?.()) throw new InferenceFailed({ model: "(generation)", reason: "cancelled" })
    const started = performance.now()
    const next = await model.forward({ batch, inputIds: stepIds, attentionMask: stepMask, positionIds: stepPositions, past: cache, lastOnly: true })
    cache = next.cache
    collector.afterStep(cacheBytes(cache), performance.now() - started)
    lives = alive.map(({ row }, i) => ({ row, logits: next.logits, offset: (i * next.seq + next.seq - 1) * vocab, cacheRow: i, joining: false }))
    const arrivals = request.admit ? await request.admit({ rows: batch, length: cache.length }) : []
    if (arrivals.length > 0) joining = await prefillGroups(model, request, arrivals, tally)
  }
  return tally.sorted()
}

/** Prefills `groups` (numbered on from the tally's) and makes a row for each of their samples, sampling from the prefill's logits. */
const prefillGroups = async (model: DecoderSession, request: GenerationRequest, groups: readonly PromptGroup[], tally: GroupTally): Promise<Joining> => {
  const prefill = await prefillPrompts(model, groups.map((g) => g.ids), request.padId, request.maxPrefillLogits)
  const { vocab } = model.layout
  const lives: Live[] = []
  groups.forEach((group, g) => {
    for (const row of tally.open(group, tally.groups, request, prefill.width - group.ids.length)) {
      lives.push({ row, logits: prefill.logits, offset: (g * prefill.seq + prefill.seq - 1) * vocab, cacheRow: g, joining: true })
    }
  })
  return { cache: prefill.cache, lives }
}

/**
 * The cache of the rows still running: the batch's rows compacted in place (or a prompt's row
 * fanned out to its samples), and joining rows merged in, right-aligned to the longer past with
 * each row's padding grown to match.
 */
const gatherCache = (cache: KvCache | undefined, joining: Joining | undefined, alive: readonly Live[]): KvCache => {
  const old = alive.filter((l) => !l.joining).map((l) => l.cacheRow)
  const fresh = alive.filter((l) => l.joining).map((l) => l.cacheRow)
  if (!joining || fresh.length === 0) return isIdentity(old) && old.length === batchOf(cache!) ? cache! : selectRows(cache!, old, true)
  if (!cache || old.length === 0) return isIdentity(fresh) && fresh.length === batchOf(joining.cache) ? joining.cache : selectRows(joining.cache, fresh, true)
  const length = Math.max(cache.length, joining.cache.length)
  for (const live of alive) live.row.pad += length - (live.joining ? joining.cache.length : cache.length)
  return joinRows(cache, old, joining.cache, fresh)
}

const isIdentity = (rows: readonly number[]): boolean => rows.every((r, i) => r === i)

const cacheBytes = (cache: KvCache): number =>
  Object.values(cache.tensors).reduce((sum, tensor) => sum + (tensor.data as ArrayBufferView).byteLength, 0)

const batchOf = (cache: KvCache): number => Number(Object.values(cache.tensors)[0]!.dims[0])
