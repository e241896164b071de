import type { ChatMessage } from "../promptStage/chat.js"
import { languageOf, type PromptLanguage } from "../promptStage/language.js"

/**
 * STaR rationalization (Zelikman et al., 2022): a prompt the model could not solve is sampled
 * again with its reference answer given as a hint, so that correct reasoning toward a known
 * answer can still become a record. Such records carry `rationalized: true` in their provenance
 * and, as in STaR, pair the response with the prompt as written, without the hint.
 */

const HINTED = "#hint"

/** The id of a prompt's hinted copy. */
export const hintedPromptId = (id: string): string => `${id}${HINTED}`

/** The prompt id behind an id, and whether the id is of a hinted copy. */
export const splitHintedId = (id: string): { readonly id: string; readonly hinted: boolean } =>
  id.endsWith(HINTED) ? { id: id.slice(0, -HINTED.length), hinted: true } : { id, hinted: false }

/** The hint appended to the prompt, in the prompt's language. */
export const hintText = (reference: string, lang: PromptLanguage): string => {
  const answer = reference.trim().replace(/[。．.！!]+$/u, "")
  return lang === "zh" ? `（提示：答案是 ${answer}。请给出完整的推理过程。）` : `(Hint: the answer is ${answer}. Show the full reasoning.)`
}

/** A prompt that can be hinted: it has a reference answer. */
export interface HintablePrompt {
  readonly id: string
  readonly messages: readonly ChatMessage[]
  readonly reference: string
  /** The prompt's language; read from its last user message when absent. */
  readonly lang?: PromptLanguage
}

/** The hinted copy of a prompt, marked for provenance. */
export interface HintedPrompt {
  readonly id: string
  readonly messages: ChatMessage[]
  readonly reference: string
  readonly lang: PromptLanguage
  readonly rationalized: true
  /** The id of the prompt as written, whose conversation its records use. */
  readonly hintOf: string
}

/**
 * The hinted copy of a prompt: the hint goes on a new line at the end of the last user message,
 * in the prompt's language (`lang`, or Chinese when that message is Chinese, else English).
 */
export const hintedPrompt = (prompt: HintablePrompt): HintedPrompt => {
  const last = prompt.messages.map((m) => m.role).lastIndexOf("user")
  if (last < 0) throw new RangeError(`hintedPrompt: prompt ${prompt.id} has no user message to hint`)
  const lang = prompt.lang ?? languageOf(prompt.messages[last]!.content)
  const messages = prompt.messages.map((m, i) => (i === last ? { role: m.role, content: `${m.content}\n${hintText(prompt.reference, lang)}` } : { ...m }))
  return { id: hintedPromptId(prompt.id), messages, reference: prompt.reference, lang, rationalized: true, hintOf: prompt.id }
}

const MENTIONS_HINT = /\bhint(?:s|ed)?\b|\b(?:given|provided) answer\b|提示|已知答案|给出的答案|给定的答案/iu

/**
 * True when a response to a hinted copy mentions the hint ("as the hint says", "根据提示"). Such a
 * response cannot stand next to the unhinted prompt as a record: drop it.
 */
export const leaksHint = (response: string): boolean => MENTIONS_HINT.test(response)
