import { type DecoderSession, type KvCache, selectRows } from "./decoderSession.js"
import { Rng } from "./rng.js"
import { type SamplingParams, sampleToken } from "./sampling.js"

/** One prompt of a generation batch: its token ids and one seed per sample to draw. */
export interface PromptGroup {
  readonly ids: readonly number[]
  readonly seeds: ReadonlyArray<readonly [number, number, number, number]>
}

/** Everything a batch generation needs besides the model. */
export interface GenerationRequest {
  readonly groups: readonly PromptGroup[]
  readonly params: SamplingParams & { readonly max_new_tokens: number }
  readonly eos: ReadonlySet<number>
  readonly padId: number
  /** Returns the index where a stop string begins in the decoded tokens, or -1; omit when there are no stop strings. */
  readonly findStop?: (tokens: readonly number[]) => Promise<number>
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
  finish: FinishReason
  /** with finish "stop": character offset of the stop string in the decoded text. */
  stopAt?: number
}

interface Row {
  readonly out: GeneratedSample
  readonly rng: Rng
  readonly seen: Set<number>
  readonly mask: number[]
  position: number
}

/**
 * Samples every group's N responses as one batch: one left-padded prefill for all prompts,
 * the prompt cache fanned out to its samples, then batched decode steps that drop rows as they
 * finish. Each row's draws come only from its own seed, so results do not depend on batching.
 */
export const generateBatch = async (model: DecoderSession, request: GenerationRequest): Promise<GeneratedSample[]> => {
  const { layout } = model
  const { groups, params } = request
  const width = Math.max(...groups.map((g) => g.ids.length))
  const inputIds: number[] = []
  const masks: number[][] = []
  const positions: number[] = []
  for (const group of groups) {
    const pad = width - group.ids.length
    inputIds.push(...new Array<number>(pad).fill(request.padId), ...group.ids)
    const mask = [...new Array<number>(pad).fill(0), ...new Array<number>(group.ids.length).fill(1)]
    masks.push(mask)
    positions.push(...mask.map((m, i) => (m ? i - pad : 1)))
  }
  const prefill = await model.forward({
    batch: groups.length,
    inputIds,
    attentionMask: masks.flat(),
    positionIds: positions,
    past: undefined,
    lastOnly: true
  })
  const rowOf: number[] = []
  const rows: Row[] = []
  const finished: GeneratedSample[] = []
  groups.forEach((group, g) => {
    group.seeds.forEach((seed, s) => {
      rowOf.push(g)
      rows.push({
        out: { group: g, sample: s, tokens: [], logprobs: [], entropies: [], finish: "length" },
        rng: new Rng(seed),
        seen: new Set(group.ids),
        mask: [...masks[g]!],
        position: group.ids.length
      })
    })
  })
  if (rows.length === 0) return []
  let cache: KvCache = selectRows(prefill.cache, rowOf)
  let logits = prefill.logits
  let stride = prefill.seq
  let source = rowOf
  let active = rows
  for (let step = 0; active.length > 0; step++) {
    const keep: number[] = []
    for (let r = 0; r < active.length; r++) {
      const row = active[r]!
      const offset = (source[r]! * stride + stride - 1) * layout.vocab
      const pick = sampleToken(logits, offset, layout.vocab, params, row.rng, row.seen)
      if (request.eos.has(pick.token)) {
        row.out.finish = "eos"
        finished.push(row.out)
        continue
      }
      row.out.tokens.push(pick.token)
      row.out.logprobs.push(pick.logprob)
      row.out.entropies.push(pick.entropy)
      row.seen.add(pick.token)
      if (request.findStop) {
        const at = await request.findStop(row.out.tokens)
        if (at >= 0) {
          row.out.finish = "stop"
          row.out.stopAt = at
          finished.push(row.out)
          continue
        }
      }
      if (row.out.tokens.length >= params.max_new_tokens) {
        finished.push(row.out)
        continue
      }
      keep.push(r)
    }
    if (keep.length === 0) break
    if (keep.length < active.length) cache = selectRows(cache, keep)
    active = keep.map((r) => active[r]!)
    for (const row of active) row.mask.push(1)
    const step1 = await model.forward({
      batch: active.length,
      inputIds: active.map((row) => row.out.tokens[row.out.tokens.length - 1]!),
      attentionMask: active.flatMap((row) => row.mask),
      positionIds: active.map((row) => row.position++),
      past: cache,
      lastOnly: true
    })
    cache = step1.cache
    logits = step1.logits
    stride = step1.seq
    source = active.map((_, i) => i)
  }
  return finished.sort((a, b) => a.group - b.group || a.sample - b.sample)
}
