import type { LmStatsItem } from "./causalLmScorer.js"
import type { Truncation } from "./classifierSession.js"
import type { GenerationParams, GenerationPrompt, StreamedToken } from "./localGenerator.js"
import type { ChatMessage } from "./tokenizer.js"

/** A request posted to an inference thread. `variant` picks the model directory's ONNX file; `field` names the spec entry (`scorers[2]`) in errors. */
export type ThreadRequest =
  | {
      readonly id: number
      readonly op: "generate"
      readonly model: string
      readonly variant?: string
      readonly prompts: readonly GenerationPrompt[]
      readonly params: GenerationParams
      /** Post each step's new tokens as progress messages before the answer. */
      readonly stream?: boolean
    }
  | {
      readonly id: number
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
      readonly id: number
      readonly op: "lmStats"
      readonly model: string
      readonly variant?: string
      readonly field: string
      readonly items: readonly LmStatsItem[]
      readonly maxLength: number
      readonly batchSize: number
    }
  | {
      readonly id: number
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

/** What an inference thread posts back: progress of a streamed generation, then one answer. */
export type ThreadResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: Record<string, unknown> }
  | { readonly id: number; readonly progress: readonly StreamedToken[] }

/** A thread request before the pool assigns its id. */
export type PoolRequest = ThreadRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never

/** The fields of one kind of thread request, as the pool's callers pass them (no id, no op). */
export type OpInput<Op extends ThreadRequest["op"]> = Omit<Extract<ThreadRequest, { readonly op: Op }>, "id" | "op">
