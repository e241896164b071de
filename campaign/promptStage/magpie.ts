import { lengthProblem, type LengthLimits } from "./candidates.js"
import type { ChatMessage } from "./chat.js"

/**
 * Magpie (Xu et al., 2024): give an aligned model only the chat template up to where a user's
 * message would start, and it writes a user query itself. The template renderer is injected
 * (`TextTokenizer.renderChat` fits), so this module stays free of jinja and tokenizers.
 */

/** Renders a conversation with a model's chat template, with or without the assistant header. */
export type ChatRenderer = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) => string

/** What a Magpie request sends and how its continuation is cut. */
export interface MagpieTemplate {
  /** The rendered text up to where the user's content starts: the whole generation prompt. */
  readonly preQuery: string
  /** What the template writes right after the user's content (`<|im_end|>`, `<|eot_id|>`); "" if nothing. */
  readonly endOfTurn: string
  /** The assistant's header after the user turn (`<|im_start|>assistant`); "" if none. */
  readonly assistantHeader: string
}

const SENTINEL = "MAGPIE_QUERY_SENTINEL_5f3a9c"

const afterSentinel = (rendered: string, what: string): { before: string; after: string } => {
  const at = rendered.indexOf(SENTINEL)
  if (at < 0 || rendered.indexOf(SENTINEL, at + 1) >= 0) {
    throw new Error(`magpieTemplate: the chat template ${what} does not render the user's content exactly once, so the query start cannot be found`)
  }
  return { before: rendered.slice(0, at), after: rendered.slice(at + SENTINEL.length) }
}

/**
 * The pre-query template of a chat template: render a conversation whose user message is a
 * sentinel and cut at it (a system prompt first when `system` is given; templates that add a
 * default system prompt keep it). Also finds the end-of-turn marker and the assistant header
 * that follow a user message, which `parseMagpieQuery` cuts at. Throws when the template does
 * not render the user's content verbatim once.
 */
export const magpieTemplate = (render: ChatRenderer, system?: string): MagpieTemplate => {
  const messages: ChatMessage[] = [...(system !== undefined ? [{ role: "system" as const, content: system }] : []), { role: "user", content: SENTINEL }]
  const closed = afterSentinel(render(messages, false), "without a generation prompt")
  const open = afterSentinel(render(messages, true), "with a generation prompt")
  const header = open.after.startsWith(closed.after) ? open.after.slice(closed.after.length) : open.after
  return { preQuery: closed.before, endOfTurn: closed.after.trim(), assistantHeader: header.trim() }
}

/**
 * The user query in a model's continuation of a pre-query template: cut at the first end-of-turn
 * marker or assistant header (when the generator kept them), trimmed. Undefined when the query
 * is empty, too short or too long, or when `truncated` says generation hit its token limit
 * before the turn ended (the query may be cut mid-sentence).
 */
export const parseMagpieQuery = (
  continuation: string,
  template: MagpieTemplate,
  options: { readonly truncated?: boolean; readonly limits?: LengthLimits } = {}
): string | undefined => {
  const cuts = [template.endOfTurn, template.assistantHeader]
    .filter((marker) => marker !== "")
    .map((marker) => continuation.indexOf(marker))
    .filter((at) => at >= 0)
  const ended = cuts.length > 0
  if (options.truncated && !ended) return undefined
  const query = (ended ? continuation.slice(0, Math.min(...cuts)) : continuation).trim()
  return lengthProblem(query, options.limits) ? undefined : query
}
