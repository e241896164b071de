import { detectLanguage } from "../../core/text.js"

/** The languages the prompt stage writes templates in. */
export type PromptLanguage = "zh" | "en"

/** Every prompt-stage language, in the order operators alternate them. */
export const PROMPT_LANGUAGES: readonly PromptLanguage[] = ["zh", "en"]

/**
 * The template language for a text: Chinese when the text is CJK-dominant Chinese, English
 * otherwise (Japanese, Korean and text without letters included). Use when a prompt row does not
 * say its language.
 */
export const languageOf = (text: string): PromptLanguage => (detectLanguage(text) === "zh" ? "zh" : "en")
