import { Tokenizer } from "tokenizers"
import { inputInvalid } from "../core/errors.js"
import { DecoderSession, type KvCache } from "./decoderSession.js"
import { readOwnedModelDir } from "./modelDir.js"
import type { SessionSettings } from "./onnxSession.js"
import { distributionStats } from "./sampling.js"
import { type ChatMessage, TextTokenizer } from "./tokenizer.js"

/** Statistics of one response under a causal LM, over the response tokens it scored. */
export interface LmStatsRow {
  /** Mean negative log-likelihood (nats per token); NaN for an empty response. */
  readonly nll: number
  /** Mean entropy (nats) of the model's next-token distribution at the response positions. */
  readonly entropy: number
  readonly tokens: number
  readonly truncated: boolean
}

/** One response to score: the conversation it answers and its text. */
export interface LmStatsItem {
  readonly messages: readonly ChatMessage[]
  readonly response: string
}

/** Per prompt: the probability of each option (summed over its token forms), and the options' total mass. */
export interface OptionProbs {
  readonly probs: number[][]
  readonly mass: number[]
  readonly truncated: boolean[]
}

/** Floats of logits one forward chunk may return (128 MiB); bounds memory on large vocabularies. */
const LOGITS_BUDGET = 2 ** 25
const MIN_CHUNK = 16

/**
 * A causal LM used as a scorer: teacher-forced statistics of responses (mean NLL and entropy)
 * and next-token option probabilities for LLM-as-judge. Long inputs are fed in chunks with the
 * KV cache carried over, so each chunk's logits stay within a fixed memory budget while every
 * token still sees its whole context. Reuses `DecoderSession.forward`; lives in a worker thread.
 */
export class CausalLmScorer {
  private constructor(
    private readonly decoder: DecoderSession,
    private readonly chat: TextTokenizer,
    private readonly raw: Tokenizer,
    private readonly padId: number,
    private readonly maxPositions: number
  ) {}

  /** Loads a causal LM directory (the generator or another model). */
  static async load(path: string, owner: string, settings: SessionSettings, variant?: string): Promise<CausalLmScorer> {
    const dir = readOwnedModelDir(path, owner, variant)
    const decoder = await DecoderSession.open(dir, settings)
    const raw = Tokenizer.fromFile(dir.tokenizerPath)
    raw.disableTruncation()
    raw.disablePadding()
    const config = dir.config as Record<string, unknown>
    const pad = [config.pad_token_id, config.eos_token_id].flat().find((v): v is number => typeof v === "number") ?? 0
    const maxPositions = typeof config.max_position_embeddings === "number" ? config.max_position_embeddings : Number.POSITIVE_INFINITY
    return new CausalLmScorer(decoder, TextTokenizer.load(dir), raw, pad, maxPositions)
  }

  private async ids(text: string): Promise<number[]> {
    return (await this.raw.encode(text, null, { addSpecialTokens: false })).getIds()
  }

  /**
   * Mean NLL and entropy of each response given its conversation (rendered with the chat template
   * and a generation prompt, as the generator saw it). Sequences beyond `maxLength` tokens lose
   * prompt tokens from the left first, then response tokens from the end (flagged `truncated`).
   */
  async responseStats(items: readonly LmStatsItem[], options: { maxLength: number; batchSize: number; chunk?: number }): Promise<LmStatsRow[]> {
    const limit = Math.max(2, Math.min(options.maxLength, this.maxPositions))
    const prepared = await Promise.all(items.map(async (item) => {
      const prompt = await this.chat.encode(this.chat.renderChat(item.messages, true))
      const response = await this.ids(item.response)
      const scored = Math.min(response.length, limit - 1)
      const context = prompt.slice(Math.max(0, prompt.length - (limit - scored)))
      return { ids: [...context, ...response.slice(0, scored)], start: context.length, truncated: scored < response.length || context.length < prompt.length }
    }))
    const results: LmStatsRow[] = new Array(items.length)
    for (const batch of lengthBatches(prepared.map((p) => p.ids.length), options.batchSize)) {
      const rows = batch.map((i) => prepared[i]!)
      const nll = new Float64Array(rows.length)
      const entropy = new Float64Array(rows.length)
      const vocab = this.decoder.layout.vocab
      await this.forwardChunked(rows.map((r) => r.ids), options.chunk, (from, seq, logits) => {
        rows.forEach((row, r) => {
          for (let s = 0; s < seq; s++) {
            const next = from + s + 1
            if (next < row.start || next >= row.ids.length) continue
            const logitsRow = logits.subarray((r * seq + s) * vocab, (r * seq + s + 1) * vocab)
            const stats = distributionStats(logitsRow)
            nll[r] += stats.logZ - logitsRow[row.ids[next]!]!
            entropy[r] += stats.entropy
          }
        })
      })
      batch.forEach((i, r) => {
        const row = rows[r]!
        const tokens = row.ids.length - row.start
        results[i] = { nll: tokens ? nll[r]! / tokens : Number.NaN, entropy: tokens ? entropy[r]! / tokens : Number.NaN, tokens, truncated: row.truncated }
      })
    }
    return results
  }

  /**
   * The token forms of each option string: the option alone and with a leading space, where
   * each is a single token. Throws `InputInvalid` (naming `field`) when an option is not one
   * token or two options share a token.
   */
  async optionTokens(options: readonly string[], field: string): Promise<number[][]> {
    const seen = new Map<number, string>()
    return Promise.all(options.map(async (option, i) => {
      const forms = [await this.ids(option), await this.ids(` ${option}`)]
      if (forms[0]!.length !== 1) throw inputInvalid("spec", `${field}[${i}]`, option, `a single token of the judge model's tokenizer (it is ${forms[0]!.length} tokens)`)
      const ids = [...new Set(forms.filter((f) => f.length === 1).map((f) => f[0]!))]
      for (const id of ids) {
        const other = seen.get(id)
        if (other !== undefined && other !== option) throw inputInvalid("spec", `${field}[${i}]`, option, `a token different from option "${other}"`)
        seen.set(id, option)
      }
      return ids
    }))
  }

  /**
   * For each conversation (rendered with a generation prompt, then `answerPrefix`), the
   * probabilities of the next token being each option, from one forward pass. Inputs longer than
   * `maxLength` tokens lose their middle (the rubric's head and the answer slot are kept).
   */
  async optionProbs(
    conversations: ReadonlyArray<readonly ChatMessage[]>,
    options: readonly string[],
    settings: { answerPrefix: string; maxLength: number; batchSize: number; field: string; chunk?: number }
  ): Promise<OptionProbs> {
    const tokens = await this.optionTokens(options, settings.field)
    const limit = Math.max(2, Math.min(settings.maxLength, this.maxPositions))
    const prepared = await Promise.all(conversations.map(async (messages) => {
      const ids = await this.chat.encode(this.chat.renderChat(messages, true) + settings.answerPrefix)
      if (ids.length <= limit) return { ids, truncated: false }
      const head = Math.floor(limit / 2)
      return { ids: [...ids.slice(0, head), ...ids.slice(ids.length - (limit - head))], truncated: true }
    }))
    const probs: number[][] = new Array(conversations.length)
    const mass: number[] = new Array(conversations.length)
    const vocab = this.decoder.layout.vocab
    for (const batch of lengthBatches(prepared.map((p) => p.ids.length), settings.batchSize)) {
      const rows = batch.map((i) => prepared[i]!.ids)
      await this.forwardChunked(rows, settings.chunk, (from, seq, logits) => {
        rows.forEach((ids, r) => {
          const last = ids.length - 1 - from
          if (last < 0 || last >= seq) return
          const row = logits.subarray((r * seq + last) * vocab, (r * seq + last + 1) * vocab)
          const { logZ } = distributionStats(row)
          const p = tokens.map((forms) => forms.reduce((sum, id) => sum + Math.exp(row[id]! - logZ), 0))
          const total = p.reduce((a, b) => a + b, 0)
          probs[batch[r]!] = p.map((x) => (total > 0 ? x / total : 1 / p.length))
          mass[batch[r]!] = total
        })
      })
    }
    return { probs, mass, truncated: prepared.map((p) => p.truncated) }
  }

  /**
   * Runs right-padded rows through the model in chunks of positions, carrying the KV cache, and
   * hands each chunk's logits `[rows, seq, vocab]` (starting at position `from`) to `visit`.
   */
  private async forwardChunked(rows: readonly number[][], chunkOverride: number | undefined, visit: (from: number, seq: number, logits: Float32Array) => void): Promise<void> {
    const batch = rows.length
    const width = Math.max(1, ...rows.map((r) => r.length))
    const chunk = chunkOverride ?? Math.max(MIN_CHUNK, Math.floor(LOGITS_BUDGET / (batch * this.decoder.layout.vocab)))
    let cache: KvCache | undefined
    for (let from = 0; from < width; from += chunk) {
      const to = Math.min(width, from + chunk)
      const seq = to - from
      const inputIds = new Array<number>(batch * seq)
      const positionIds = new Array<number>(batch * seq)
      const attentionMask = new Array<number>(batch * to)
      rows.forEach((ids, r) => {
        for (let t = from; t < to; t++) {
          inputIds[r * seq + t - from] = t < ids.length ? ids[t]! : this.padId
          positionIds[r * seq + t - from] = Math.min(t, ids.length - 1)
        }
        for (let t = 0; t < to; t++) attentionMask[r * to + t] = t < ids.length ? 1 : 0
      })
      const out = await this.decoder.forward({ batch, inputIds, attentionMask, positionIds, past: cache, lastOnly: false })
      cache = out.cache
      visit(from, out.seq, out.logits)
    }
  }

  /** Releases the ONNX session. */
  close(): Promise<void> {
    return this.decoder.close()
  }
}

/** Indices grouped into batches of at most `size`, shortest inputs together (length bucketing). */
export const lengthBatches = (lengths: readonly number[], size: number): number[][] => {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b)
  const batches: number[][] = []
  for (let i = 0; i < order.length; i += size) batches.push(order.slice(i, i + size))
  return batches
}
