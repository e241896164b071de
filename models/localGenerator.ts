import { type ModelDir, readModelDir, tokenIdList } from "./modelDir.js"
import { DecoderSession } from "./decoderSession.js"
import { generateBatch, type FinishReason } from "./generate.js"
import type { SessionSettings } from "./onnxSession.js"
import type { SamplingParams } from "./sampling.js"
import { type ChatMessage, TextTokenizer } from "./tokenizer.js"

/** One prompt to sample: its conversation and the seed of each sample to draw. */
export interface GenerationPrompt {
  readonly messages: readonly ChatMessage[]
  readonly seeds: ReadonlyArray<readonly [number, number, number, number]>
}

/** Sampling parameters plus the limits of one request. */
export interface GenerationParams extends SamplingParams {
  readonly max_new_tokens: number
  readonly stop?: readonly string[]
}

/** One finished sample as text plus what was recorded while sampling it. */
export interface SampleText {
  readonly prompt: number
  readonly sample: number
  readonly text: string
  readonly tokenCount: number
  readonly promptTokens: number
  readonly logprobs: number[]
  readonly entropies: number[]
  readonly finish: FinishReason
}

/** How many sequences one batched decode may hold. */
const MAX_BATCH_ROWS = 32

/**
 * A local ONNX chat model: chat template, tokenizer, batched KV-cache sampling. Use inside a
 * worker thread (see `inferenceThread.ts`); one instance per loaded model.
 */
export class LocalGenerator {
  private constructor(
    readonly dir: ModelDir,
    private readonly decoder: DecoderSession,
    private readonly tokenizer: TextTokenizer,
    private readonly eos: Set<number>,
    private readonly padId: number
  ) {}

  /** Loads a model directory; throws `InputInvalid` or `ModelUnsupported` naming what is wrong. */
  static async load(path: string, settings: SessionSettings, variant?: string): Promise<LocalGenerator> {
    const dir = readModelDir(path, "generator.model", path, variant)
    const tokenizer = TextTokenizer.load(dir)
    const decoder = await DecoderSession.open(dir, settings)
    const eos = new Set([
      ...tokenIdList(dir.generationConfig.eos_token_id),
      ...tokenIdList(dir.config.eos_token_id)
    ])
    const eosToken = tokenizer.special("eos_token")
    const eosId = eosToken ? tokenizer.tokenId(eosToken) : undefined
    if (eosId !== undefined) eos.add(eosId)
    const pad = tokenIdList(dir.generationConfig.pad_token_id)[0] ?? tokenIdList(dir.config.pad_token_id)[0] ?? [...eos][0] ?? 0
    return new LocalGenerator(dir, decoder, tokenizer, eos, pad)
  }

  /** Samples every prompt's responses, batching prompts together up to a row budget. */
  async generate(prompts: readonly GenerationPrompt[], params: GenerationParams): Promise<SampleText[]> {
    const encoded = await Promise.all(prompts.map((p) => this.tokenizer.encode(this.tokenizer.renderChat(p.messages, true))))
    const order = prompts.map((_, i) => i).sort((a, b) => encoded[a]!.length - encoded[b]!.length || a - b)
    const results: SampleText[] = []
    let chunk: number[] = []
    let rows = 0
    const flush = async () => {
      if (chunk.length === 0) return
      results.push(...(await this.generateChunk(chunk, encoded, prompts, params)))
      chunk = []
      rows = 0
    }
    for (const i of order) {
      const n = prompts[i]!.seeds.length
      if (rows + n > MAX_BATCH_ROWS) await flush()
      chunk.push(i)
      rows += n
    }
    await flush()
    return results.sort((a, b) => a.prompt - b.prompt || a.sample - b.sample)
  }

  private async generateChunk(
    chunk: readonly number[],
    encoded: readonly number[][],
    prompts: readonly GenerationPrompt[],
    params: GenerationParams
  ): Promise<SampleText[]> {
    const stop = params.stop?.filter((s) => s.length > 0) ?? []
    const findStop = stop.length === 0
      ? undefined
      : async (tokens: readonly number[]) => firstIndexOf(await this.tokenizer.decode(tokens), stop)
    const samples = await generateBatch(this.decoder, {
      groups: chunk.map((i) => ({ ids: encoded[i]!, seeds: prompts[i]!.seeds })),
      params,
      eos: this.eos,
      padId: this.padId,
      ...(findStop ? { findStop } : {})
    })
    return Promise.all(
      samples.map(async (s): Promise<SampleText> => {
        const full = await this.tokenizer.decode(s.tokens)
        const text = s.finish === "stop" && s.stopAt !== undefined ? full.slice(0, s.stopAt) : full
        return {
          prompt: chunk[s.group]!,
          sample: s.sample,
          text,
          tokenCount: s.tokens.length,
          promptTokens: encoded[chunk[s.group]!]!.length,
          logprobs: s.logprobs,
          entropies: s.entropies,
          finish: s.finish
        }
      })
    )
  }

  /** Releases the ONNX session. */
  close(): Promise<void> {
    return this.decoder.close()
  }
}

/** Earliest position at which any of `needles` occurs in `text`, or -1. */
export const firstIndexOf = (text: string, needles: readonly string[]): number =>
  needles.reduce((best, needle) => {
    const at = text.indexOf(needle)
    return at >= 0 && (best < 0 || at < best) ? at : best
  }, -1)
