import type { LmStatsItem } from "./causalLmScorer.js"
import type { Truncation } from "./classifierSession.js"
import type { GenerationParams, GenerationPrompt, NumberedPrompt, SampleText, StreamedToken } from "./localGenerator.js"
import type { ChatMessage } from "./tokenizer.js"

/** A request to the inference pool. `variant` picks the model directory's ONNX file; `field` names the spec entry (`scorers[2]`) in errors. */
export type PoolRequest =
  | {
      readonly op: "generate"
      readonly model: string
      readonly variant?: string
      readonly prompts: readonly GenerationPrompt[]
      readonly params: GenerationParams
      /** Post each step's new tokens as progress messages before the answer. */
      readonly stream?: boolean
      /**
       * Continuous batching: prompts may join while it decodes (`ThreadJoin`); each prompt's
       * samples are posted as it ends, and the answer lists the joined prompts never admitted.
       */
      readonly joinable?: boolean
    }
  | {
      readonly op: "classify"
      readonly model: string
      readonly variant?: string
      readonly field: string
      readonly texts: readonly string[]
      readonly pairs?: ReadonlyArray<readonly [string, string]>
      readonly maxLength: number
      readonly batchSize: number
      readonly truncation?: Truncation
    }
  | {
      readonly op: "lmStats"
      readonly model: string
      readonly variant?: string
      readonly field: string
      readonly items: readonly LmStatsItem[]
      readonly maxLength: number
      readonly batchSize: number
    }
  | {
      readonly op: "judge"
      readonly model: string
      readonly variant?: string
      readonly field: string
      /** the spec field listing the options (`scorers[2].ratings`), named when an option is not one token */
      readonly optionsField: string
      readonly conversations: ReadonlyArray<readonly ChatMessage[]>
      readonly options: readonly string[]
      readonly answerPrefix: string
      readonly maxLength: number
      readonly batchSize: number
    }

/** Tells an inference thread to stop a running generation before its next decode step. */
export interface ThreadCancel {
  readonly cancel: number
}

/** Prompts that join the running joinable generation `join`, numbered on after the prompts it has. */
export interface ThreadJoin {
  readonly join: number
  readonly prompts: readonly NumberedPrompt[]
}

/** The answer of a joinable generation: the joined prompts it never admitted (to be sent elsewhere). */
export interface JoinableAnswer {
  readonly returned: readonly number[]
}

/**
 * What an inference thread posts back: progress of a streamed generation, a joinable
 * generation's prompts as each ends, joined prompts it could not take, then one answer.
 */
export type ThreadResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: Record<string, unknown> }
  | { readonly id: number; readonly progress: readonly StreamedToken[] }
  | { readonly id: number; readonly done: { readonly prompt: number; readonly samples: readonly SampleText[] } }
  | { readonly id: number; readonly returned: readonly number[] }

/**
 * A pool request as posted to an inference thread: with its id and the intra-op threads a session
 * the thread opens for this model gets (from the pool's placement of the model).
 */
export type ThreadRequest = PoolRequest & { readonly id: number; readonly intraOpThreads: number }

/** Names the loaded model a request needs: its directory, and the variant when one is named. Keys thread caches and pool placements. */
export const modelKey = (request: { readonly model: string; readonly variant?: string | undefined }): string =>
  request.variant === undefined ? request.model : `${request.model} (variant ${request.variant})`

/** The fields of one kind of pool request, as the pool's callers pass them (no op). */
export type OpInput<Op extends PoolRequest["op"]> = Omit<Extract<PoolRequest, { readonly op: Op }>, "op">
