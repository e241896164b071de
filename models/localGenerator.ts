import { inputInvalid } from "../core/errors.js"
import { type BatchBudget, DEFAULT_BATCH_BUDGET, type PlannedGroup, planBatches } from "./batchPlan.js"
import { type ModelDir, readOwnedModelDir, tokenIdList } from "./modelDir.js"
import { type GeneratedSample, type FinishReason, type PromptGroup, type StepToken } from "./generate.js"
import { type GenerationBackend, openGenerationBackend } from "./generationBackend.js"
import { stopFinder } from "./stopStrings.js"
import type { SessionSettings } from "./onnxSession.js"
import type { SamplingParams, TokenAlternative } from "./sampling.js"
import { type ChatMessage, TextTokenizer } from "./tokenizer.js"

/** One prompt to sample: its conversation, the seed of each sample to draw, and optionally its own parameters. */
export interface GenerationPrompt {
  readonly messages: readonly ChatMessage[]
  /** Raw text to continue instead of `messages` rendered with the chat template (Magpie's pre-query template). */
  readonly text?: string
  readonly seeds: ReadonlyArray<readonly [number, number, number, number]>
  /** This prompt's sampling parameters and limits, instead of the call's (prompts of different requests share a batch). */
  readonly params?: GenerationParams
}

/** Sampling parameters plus the limits of one request. */
export interface GenerationParams extends SamplingParams {
  readonly max_new_tokens: number
  readonly stop?: readonly string[]
  /** Keep sampling past EOS tokens until max_new_tokens (fixed-length benchmarks, throughput tests). */
  readonly ignore_eos?: boolean
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
  /** The sampled token ids (what `winnow serve` reports as logprobs tokens); absent from HTTP backends. */
  readonly tokens?: readonly number[]
  /** with `top_logprobs`: each step's most likely tokens (local generator only). */
  readonly alternatives?: ReadonlyArray<readonly TokenAlternative[]>
}

/** One token of one sample, reported as soon as it is sampled (streaming). */
export interface StreamedToken {
  readonly prompt: number
  readonly sample: number
  readonly token: number
  readonly logprob: number
  /** with `top_logprobs`: the step's most likely tokens. */
  readonly alternatives?: readonly TokenAlternative[]
}

/** A prompt of a joinable generation with its number in the call, which its samples and tokens carry. */
export interface NumberedPrompt {
  readonly index: number
  readonly prompt: GenerationPrompt
}

/** Callbacks of a generation that prompts may join while it decodes (continuous batching). */
export interface JoinableHooks extends GenerationHooks {
  /** Asked after every decode step: the waiting prompts to admit, taken in order while `fits` says yes. */
  readonly admit: (fits: (prompt: GenerationPrompt) => boolean) => readonly NumberedPrompt[]
  /** Called as soon as every sample of a prompt has ended. */
  readonly onPromptDone: (prompt: number, samples: SampleText[]) => void
}

/** Callbacks of a generation: when every row has its first token, each step's new tokens, whether to stop. */
export interface GenerationHooks {
  readonly onFirstToken?: () => void
  readonly onTokens?: (tokens: readonly StreamedToken[]) => void
  /** Asked before every decode step; true ends the generation with `InferenceFailed` ("cancelled"). */
  readonly cancelled?: () => boolean
}

/**
 * A local chat model (ONNX, or GGUF run by llama.cpp): chat template, tokenizer, batched KV-cache
 * sampling. Use inside a worker thread (see `inferenceThread.ts`); one instance per loaded model.
 */
export class LocalGenerator {
  private constructor(
    readonly dir: ModelDir,
    private readonly backend: GenerationBackend,
    private readonly tokenizer: TextTokenizer,
    private readonly eos: Set<number>,
    private readonly padId: number,
    /** The model's position limit from config.json, if it states one. */
    private readonly maxPositions: number | undefined = positionLimit(dir.config)
  ) {}

  /** Loads a model directory; throws `InputInvalid` or `ModelUnsupported` naming what is wrong. */
  static async load(path: string, settings: SessionSettings, variant?: string, budget: BatchBudget = DEFAULT_BATCH_BUDGET): Promise<LocalGenerator> {
    const dir = readOwnedModelDir(path, "generator", variant)
    const tokenizer = TextTokenizer.load(dir)
    const eos = new Set([
      ...tokenIdList(dir.generationConfig.eos_token_id),
      ...tokenIdList(dir.config.eos_token_id)
    ])
    const eosToken = tokenizer.special("eos_token")
    const eosId = eosToken ? tokenizer.tokenId(eosToken) : undefined
    if (eosId !== undefined) eos.add(eosId)
    const padToken = tokenizer.special("pad_token")
    const pad =
      tokenIdList(dir.generationConfig.pad_token_id)[0] ??
      tokenIdList(dir.config.pad_token_id)[0] ??
      (padToken ? tokenizer.tokenId(padToken) : undefined) ??
      [...eos][0] ??
      0
    return new LocalGenerator(dir, await openGenerationBackend(dir, settings, budget), tokenizer, eos, pad)
  }

  /**
   * The model's rows depend on each other within a batch (ONNX Runtime's dynamic int8): each
   * prompt is decoded on its own, never joined (see `GenerationBackend.rowsCoupled`).
   */
  get rowsCoupled(): boolean {
    return this.backend.rowsCoupled
  }

  /** KV-cache bytes one cached token takes, for callers that budget memory. */
  get kvBytesPerToken(): number {
    return this.backend.kvBytesPerToken
  }

  /** Token ids of a conversation rendered with the model's chat template and a generation prompt. */
  encodeChat(messages: readonly ChatMessage[]): Promise<number[]> {
    return this.tokenizer.encode(this.tokenizer.renderChat(messages, true))
  }

  /** Samples every prompt's responses (with `params`, or a prompt's own), batching prompts together up to the token budget. */
  async generate(prompts: readonly GenerationPrompt[], params: GenerationParams, hooks: GenerationHooks = {}): Promise<SampleText[]> {
    const encoded = await Promise.all(prompts.map((p) => (p.text !== undefined ? this.tokenizer.encode(p.text) : this.encodeChat(p.messages))))
    return this.generateIds(encoded, prompts.map((p) => p.seeds), params, hooks, prompts.map((p) => p.params ?? params))
  }

  /** Like `generate`, for prompts that are already token ids; `perPrompt` gives each prompt its own parameters. */
  async generateIds(
    encoded: readonly (readonly number[])[],
    seeds: ReadonlyArray<GenerationPrompt["seeds"]>,
    params: GenerationParams,
    hooks: GenerationHooks = {},
    perPrompt: readonly GenerationParams[] = encoded.map(() => params)
  ): Promise<SampleText[]> {
    const { maxPositions } = this
    encoded.forEach((ids, i) => {
      if (maxPositions !== undefined && ids.length >= maxPositions) {
        throw inputInvalid(this.dir.path, `prompts[${i}]`, `${ids.length} tokens`, `a prompt shorter than the model's ${maxPositions} positions (max_position_embeddings)`)
      }
    })
    const longest = Math.max(...perPrompt.map((p) => p.max_new_tokens))
    const plan = this.rowsCoupled
      ? encoded.flatMap((e, p) => planBatches([e.length], [seeds[p]!.length], perPrompt[p]!.max_new_tokens, this.backend.budget).map((b) => b.map((g) => ({ ...g, prompt: p }))))
      : planBatches(encoded.map((e) => e.length), seeds.map((s) => s.length), longest, this.backend.budget)
    const results: SampleText[] = []
    for (const batch of plan) results.push(...(await this.generateChunk(batch, encoded, seeds, perPrompt, hooks)))
    return results.sort((a, b) => a.prompt - b.prompt || a.sample - b.sample)
  }

  /**
   * Samples `first` as one batch that later prompts join at the next decode step while rows and
   * KV tokens stay within the batch budget (continuous batching, for `winnow serve`); each
   * prompt's samples go to `onPromptDone` as soon as they end. Batched rows may differ from
   * lone ones in the last bits of their logits, as in any batch.
   */
  async generateJoinable(first: readonly NumberedPrompt[], params: GenerationParams, hooks: JoinableHooks): Promise<void> {
    if (this.rowsCoupled) return this.generateEachAlone(first, params, hooks)
    const numbers: number[] = []
    const encodedOf: (readonly number[])[] = []
    const groupsOf = async (prompts: readonly NumberedPrompt[]): Promise<PromptGroup[]> => {
      const encoded = await Promise.all(prompts.map(({ prompt }) => (prompt.text !== undefined ? this.tokenizer.encode(prompt.text) : this.encodeChat(prompt.messages))))
      return prompts.map(({ index, prompt }, i) => {
        const ids = encoded[i]!
        if (this.maxPositions !== undefined && ids.length >= this.maxPositions) {
          throw inputInvalid(this.dir.path, `prompts[${index}]`, `${ids.length} tokens`, `a prompt shorter than the model's ${this.maxPositions} positions (max_position_embeddings)`)
        }
        numbers.push(index)
        encodedOf.push(ids)
        return this.groupOf(ids, prompt.seeds, prompt.params ?? params)
      })
    }
    const groups = await groupsOf(first)
    const admit = async ({ rows, length }: { readonly rows: number; readonly length: number }) => {
      let taken = rows
      const fits = (prompt: GenerationPrompt) => {
        const grown = taken + prompt.seeds.length
        const fit = grown <= this.backend.budget.maxRows && grown * (length + (prompt.params ?? params).max_new_tokens) <= this.backend.budget.maxKvTokens
        if (fit) taken = grown
        return fit
      }
      return groupsOf(hooks.admit(fits))
    }
    const textOf = this.sampleText(encodedOf, (group) => ({ prompt: numbers[group]!, firstSample: 0 }))
    const { onFirstToken, onTokens, cancelled } = hooks
    const reports: Array<Promise<void>> = []
    await this.backend.run({
      groups,
      params,
      eos: this.eos,
      ...(this.maxPositions !== undefined ? { maxPositions: this.maxPositions } : {}),
      padId: this.padId,
      admit,
      onGroupDone: (group, samples) => void reports.push(Promise.all(samples.map(textOf)).then((texts) => hooks.onPromptDone(numbers[group]!, texts))),
      ...(onFirstToken ? { onFirstToken } : {}),
      ...(cancelled ? { cancelled } : {}),
      ...(onTokens ? { onStep: (tokens: readonly StepToken[]) => onTokens(tokens.map(({ group, ...token }) => ({ prompt: numbers[group]!, ...token }))) } : {})
    })
    await Promise.all(reports)
  }

  /** For models whose rows are coupled: each prompt decoded on its own, none admitted (joined prompts are returned). */
  private async generateEachAlone(prompts: readonly NumberedPrompt[], params: GenerationParams, hooks: JoinableHooks): Promise<void> {
    for (const { index, prompt } of prompts) {
      const { onTokens } = hooks
      const own = { ...hooks, ...(onTokens ? { onTokens: (tokens: readonly StreamedToken[]) => onTokens(tokens.map((t) => ({ ...t, prompt: index }))) } : {}) }
      const samples = await this.generate([prompt], prompt.params ?? params, own)
      hooks.onPromptDone(index, samples.map((s) => ({ ...s, prompt: index })))
    }
  }

  private groupOf(ids: readonly number[], seeds: GenerationPrompt["seeds"], params: GenerationParams): PromptGroup {
    const findStop = stopFinder(this.tokenizer, params.stop ?? [])
    return { ids, seeds, params, eos: params.ignore_eos ? NO_EOS : this.eos, ...(findStop ? { findStop } : {}) }
  }

  /** Turns a generated sample into text, its group placed by `placeOf` (prompt number, first sample). */
  private sampleText(encoded: readonly (readonly number[])[], placeOf: (group: number) => { readonly prompt: number; readonly firstSample: number }) {
    return async (s: GeneratedSample): Promise<SampleText> => {
      const { prompt, firstSample } = placeOf(s.group)
      const full = await this.tokenizer.decode(s.tokens)
      const text = s.finish === "stop" && s.stopAt !== undefined ? full.slice(0, s.stopAt) : full
      return {
        prompt,
        sample: firstSample + s.sample,
        text,
        tokenCount: s.tokens.length,
        promptTokens: encoded[s.group]!.length,
        logprobs: s.logprobs,
        entropies: s.entropies,
        finish: s.finish,
        tokens: s.tokens,
        ...(s.alternatives ? { alternatives: s.alternatives } : {})
      }
    }
  }

  private async generateChunk(
    batch: readonly PlannedGroup[],
    encoded: readonly (readonly number[])[],
    seeds: ReadonlyArray<GenerationPrompt["seeds"]>,
    perPrompt: readonly GenerationParams[],
    hooks: GenerationHooks
  ): Promise<SampleText[]> {
    const { onFirstToken, onTokens, cancelled } = hooks
    const groups = batch.map((g) => this.groupOf(encoded[g.prompt]!, seeds[g.prompt]!.slice(g.firstSample, g.firstSample + g.samples), perPrompt[g.prompt]!))
    const samples = await this.backend.run({
      groups,
      params: perPrompt[batch[0]!.prompt]!,
      eos: this.eos,
      ...(this.maxPositions !== undefined ? { maxPositions: this.maxPositions } : {}),
      padId: this.padId,
      ...(onFirstToken ? { onFirstToken } : {}),
      ...(cancelled ? { cancelled } : {}),
      ...(onTokens
        ? { onStep: (tokens: readonly StepToken[]) => onTokens(tokens.map(({ group, sample, ...token }) => ({ prompt: batch[group]!.prompt, sample: batch[group]!.firstSample + sample, ...token }))) }
        : {})
    })
    return Promise.all(samples.map(this.sampleText(batch.map((g) => encoded[g.prompt]!), (group) => batch[group]!)))
  }

  /** Releases the model (ONNX session or llama.cpp context). */
  close(): Promise<void> {
    return this.backend.close()
  }
}

const NO_EOS: ReadonlySet<number> = new Set()

/** The model's position limit from config.json (`max_position_embeddings` or GPT-2's `n_positions`), if it states one. */
const positionLimit = (config: Record<string, unknown>): number | undefined => {
  const value = config.max_position_embeddings ?? config.n_positions
  return typeof value === "number" && value > 0 ? value : undefined
}
