import { type DropReason, type LengthLimits, screenCandidates } from "./candidates.js"
import type { ChatMessage } from "./chat.js"
import type { EvalIndex } from "./decontamination.js"
import type { PromptLanguage } from "./language.js"
import { parseListItems } from "./listItems.js"

/**
 * Self-Instruct (Wang et al., 2023): show the model a few existing tasks and ask it for new,
 * different ones; parse the list it writes back into candidate prompts.
 */

/** What a Self-Instruct request shows and asks for. */
export interface SelfInstructRequest {
  /** The in-context examples (pick them with `sampleWithoutReplacement`). */
  readonly examples: readonly string[]
  readonly lang: PromptLanguage
  /** How many new tasks to ask for. */
  readonly count: number
}

const numbered = (examples: readonly string[]): string =>
  examples.map((example, i) => `${i + 1}. ${example.trim().replace(/\s*\n\s*/gu, " ")}`).join("\n")

const ENGLISH = (examples: readonly string[], count: number): string =>
  [
    "We are collecting a varied set of tasks to teach an AI assistant. Here are a few of them:",
    "",
    numbered(examples),
    "",
    `Come up with ${count} new tasks that are clearly different from these: try other topics, other kinds of task (questions, writing, rewriting, classification, planning, coding, reasoning …) and other phrasings. Each task must make sense on its own and be answerable in text alone.`,
    "Reply with a numbered list, one task per line, and nothing before or after it."
  ].join("\n")

const CHINESE = (examples: readonly string[], count: number): string =>
  [
    "我们在为一个 AI 助手收集各式各样的任务指令，下面是其中几条：",
    "",
    numbered(examples),
    "",
    `请另外写出 ${count} 条新指令，和上面这些明显不同：换换话题，换换任务类型（问答、写作、改写、分类、规划、编程、推理……），也换换说法。每条指令都要能单独看懂，并且只用文字就能完成。`,
    "请用编号列表回答，每行一条，列表前后不要加任何别的话。"
  ].join("\n")

/**
 * The conversation that asks the model for new tasks, written natively in the request's language.
 * Examples are shown as a numbered list, each on one line (line breaks inside one become spaces).
 */
export const selfInstructMessages = (request: SelfInstructRequest): ChatMessage[] => {
  if (request.examples.length === 0) throw new RangeError("selfInstructMessages: at least one example prompt is needed")
  if (!Number.isInteger(request.count) || request.count < 1) throw new RangeError(`selfInstructMessages: count must be an integer ≥ 1, got ${request.count}`)
  const content = request.lang === "zh" ? CHINESE(request.examples, request.count) : ENGLISH(request.examples, request.count)
  return [{ role: "user", content }]
}

/** What parsing a Self-Instruct response checks against. */
export interface SelfInstructParse {
  /** The examples the request showed, and any other prompts the new ones must not repeat. */
  readonly earlier?: Iterable<string>
  readonly limits?: LengthLimits
  readonly evalIndex?: EvalIndex
}

/**
 * The new prompts in a Self-Instruct response: list items with their numbering stripped,
 * screened (length, exact and normalised duplicates of each other and of `earlier`, eval-set
 * overlap), with the count of each drop reason for the round statistics.
 */
export const parseSelfInstruct = (response: string, options: SelfInstructParse = {}): { prompts: string[]; dropped: Record<DropReason, number> } => {
  const { kept, dropped } = screenCandidates(parseListItems(response), options)
  return { prompts: kept, dropped }
}
