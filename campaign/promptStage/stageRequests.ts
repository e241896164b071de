import type { PromptOperatorSpec } from "../loopSpec.js"
import { type ChatMessage } from "./chat.js"
import { EVOL_OPERATIONS, evolFailure, evolMessages, type EvolOperation, parseEvolved } from "./evolInstruct.js"
import { languageOf, PROMPT_LANGUAGES, type PromptLanguage } from "./language.js"
import { type MagpieTemplate, parseMagpieQuery } from "./magpie.js"
import { PROMPT_OPERATOR_DEFAULTS } from "./operators.js"
import { sampleWithoutReplacement, seededUniform, uniformInt } from "./random.js"
import { parseListItems } from "./listItems.js"
import { selfInstructMessages } from "./selfInstruct.js"

/**
 * What the model-backed prompt operators ask the generator, and how their answers become
 * candidate prompts. Pure: the prompt-stage activity samples the requests and screens what comes
 * back. Every draw is seeded from (campaign seed, round, operator), so a retry asks the same.
 */

/** One request to the generator: a conversation, or raw text to continue (Magpie). */
export interface StageRequest {
  readonly operator: number
  readonly kind: "self_instruct" | "evol_instruct" | "magpie"
  readonly messages: readonly ChatMessage[]
  readonly text?: string
  /** The prompt an Evol-Instruct request rewrites. */
  readonly original?: string
}

/** What the model-backed operators build their requests from. */
export interface StageContext {
  readonly seed: number
  readonly round: number
  /** Prompts written so far (the campaign's set), as user texts. */
  readonly existing: readonly string[]
  /** The generator's pre-query template, for Magpie (absent with a backend that cannot continue raw text). */
  readonly magpie?: MagpieTemplate
}

const langAt = (langs: readonly PromptLanguage[], i: number): PromptLanguage => langs[i % langs.length]!

/** The requests of one model-backed operator (arithmetic needs none). */
export const operatorRequests = (operator: PromptOperatorSpec, index: number, context: StageContext): StageRequest[] => {
  const draw = seededUniform(context.seed, context.round, index, operator.type)
  switch (operator.type) {
    case "arithmetic":
      return []
    case "self_instruct": {
      const defaults = PROMPT_OPERATOR_DEFAULTS.self_instruct
      const langs = operator.langs ?? defaults.langs
      return Array.from({ length: operator.count ?? 8 }, (_, i) => ({
        operator: index,
        kind: "self_instruct" as const,
        messages: selfInstructMessages({
          examples: sampleWithoutReplacement(context.existing, operator.examples ?? defaults.examples, draw),
          lang: langAt(langs, i),
          count: operator.new_per_request ?? defaults.new_per_request
        })
      }))
    }
    case "evol_instruct": {
      const operations: readonly EvolOperation[] = operator.operations ?? EVOL_OPERATIONS
      const langs = operator.langs ?? PROMPT_LANGUAGES
      const picked = sampleWithoutReplacement(context.existing, operator.count ?? 8, draw)
      return picked.map((original) => {
        const lang = langs.includes(languageOf(original)) ? languageOf(original) : langs[0]!
        return { operator: index, kind: "evol_instruct" as const, messages: evolMessages(original, operations[uniformInt(draw, 0, operations.length - 1)]!, lang), original }
      })
    }
    case "magpie":
      return context.magpie === undefined
        ? []
        : Array.from({ length: operator.count ?? 8 }, () => ({ operator: index, kind: "magpie" as const, messages: [], text: context.magpie!.preQuery }))
  }
}

/**
 * The candidate prompts in one answer: a Self-Instruct list, an Evol-Instruct rewrite that
 * survives the paper's elimination checks, or a Magpie query cut at the end of the user's turn.
 */
export const candidatesOf = (request: StageRequest, answer: { readonly text: string; readonly truncated: boolean }, magpie?: MagpieTemplate): string[] => {
  switch (request.kind) {
    case "self_instruct":
      return parseListItems(answer.text)
    case "evol_instruct": {
      const evolved = parseEvolved(answer.text)
      return evolFailure(request.original ?? "", evolved) === undefined ? [evolved] : []
    }
    case "magpie": {
      const query = magpie === undefined ? undefined : parseMagpieQuery(answer.text, magpie, { truncated: answer.truncated })
      return query === undefined ? [] : [query]
    }
  }
}
