import { normalizedPromptKey, lengthProblem, type LengthLimits } from "./candidates.js"
import type { ChatMessage } from "./chat.js"
import type { PromptLanguage } from "./language.js"
import { unwrap } from "./listItems.js"

/**
 * Evol-Instruct (WizardLM, Xu et al., 2023): ask the model to rewrite one prompt into a harder
 * one (in depth) or into a new one of the same domain (in breadth); parse the rewrite; drop
 * failed evolutions with the paper's checks that need no model.
 */

/** The in-depth operators (harder versions of the prompt) and the in-breadth one (a new prompt). */
export type EvolOperation = "add_constraints" | "deepen" | "concretize" | "increase_reasoning" | "breadth"

/** Every operation, in-depth first. */
export const EVOL_OPERATIONS: readonly EvolOperation[] = ["add_constraints", "deepen", "concretize", "increase_reasoning", "breadth"]

const ENGLISH_METHODS: Record<Exclude<EvolOperation, "breadth">, string> = {
  add_constraints: "Add one more constraint or requirement to it.",
  deepen: "If it asks about a particular issue, ask about that issue in more depth and from more angles.",
  concretize: "Replace general concepts in it with more specific ones.",
  increase_reasoning: "If it can be solved with only a few simple steps of thought, rewrite it so that it explicitly calls for reasoning in several steps."
}

const CHINESE_METHODS: Record<Exclude<EvolOperation, "breadth">, string> = {
  add_constraints: "给它再加一条约束或要求。",
  deepen: "如果它问的是某个具体问题，就把这个问题问得更深入、更全面。",
  concretize: "把其中笼统的概念换成更具体的概念。",
  increase_reasoning: "如果它只需几步简单的思考就能解决，就把它改写成明确要求多步推理的问题。"
}

const englishInDepth = (prompt: string, method: string): string =>
  [
    "You are rewriting a prompt into a more demanding version, so that even strong AI assistants find it a little harder to handle. The new prompt must still be reasonable, and a person must be able to understand and answer it.",
    "Keep everything in the original that is not plain text, such as tables and code, and keep any input data it gives.",
    `How to make it harder: ${method}`,
    "Keep it concise: add no more than 10 to 20 words to the original. Reply with the new prompt only, and do not mention \"original prompt\" or \"rewritten prompt\" in it.",
    "",
    "Original prompt:",
    prompt,
    "",
    "Rewritten prompt:"
  ].join("\n")

const chineseInDepth = (prompt: string, method: string): string =>
  [
    "请把下面这条指令改写得更有挑战性，让能力很强的 AI 助手也要多费些力气，但改写后仍须合情合理，人能看懂、也能作答。",
    "原指令里的表格、代码等非文字内容要原样保留，给出的输入数据也不能删。",
    `改写方法：${method}`,
    "改写要简洁，比原指令最多多出 20 到 40 个字。只输出改写后的指令本身，不要在其中出现“原指令”“改写后的指令”之类的字眼。",
    "",
    "原指令：",
    prompt,
    "",
    "改写后的指令："
  ].join("\n")

const englishBreadth = (prompt: string): string =>
  [
    "Taking the prompt below as inspiration, write a brand-new prompt. It should belong to the same domain but be about something less common, and be of similar length and difficulty. It must be reasonable, and a person must be able to understand and answer it.",
    "Reply with the new prompt only, and do not mention \"original prompt\" or \"new prompt\" in it.",
    "",
    "Original prompt:",
    prompt,
    "",
    "New prompt:"
  ].join("\n")

const chineseBreadth = (prompt: string): string =>
  [
    "请以下面这条指令为灵感，另写一条全新的指令：和它属于同一领域，但话题更少见一些，长度和难度与它相当。新指令必须合情合理，人能看懂、也能作答。",
    "只输出新指令本身，不要在其中出现“原指令”“新指令”之类的字眼。",
    "",
    "原指令：",
    prompt,
    "",
    "新指令："
  ].join("\n")

/** The conversation asking the model to evolve one prompt with one operation, in the given language. */
export const evolMessages = (prompt: string, operation: EvolOperation, lang: PromptLanguage): ChatMessage[] => {
  const content =
    operation === "breadth"
      ? lang === "zh" ? chineseBreadth(prompt.trim()) : englishBreadth(prompt.trim())
      : lang === "zh" ? chineseInDepth(prompt.trim(), CHINESE_METHODS[operation]) : englishInDepth(prompt.trim(), ENGLISH_METHODS[operation])
  return [{ role: "user", content }]
}

const LABEL = /^[#*\s]*(?:(?:the\s+)?(?:rewritten|new|created|evolved)\s+(?:prompt|instruction)|改写后的指令|改写后的提示|改写结果|新的?指令|新提示)[#*\s]*[:：]?[*\s]*/iu
const PREAMBLE = /^(?:sure|certainly|okay|ok|here(?:'s| is)|好的|当然|以下是|下面是)[^\n]*[:：]\s*$/iu

/**
 * The rewritten prompt in a response: a leading preamble line (`Sure, here is …:` / `好的，以下是…：`)
 * and a label (`Rewritten prompt:`, `#Rewritten Prompt#:`, `改写后的指令：`, `新指令：`) are removed,
 * as are wrapping quotes or bold marks. Empty when nothing is left.
 */
export const parseEvolved = (response: string): string => {
  const lines = response.replace(/\r\n?/gu, "\n").trim().split("\n")
  while (lines.length > 1 && PREAMBLE.test(lines[0]!.trim())) lines.shift()
  return unwrap(lines.join("\n").trim().replace(LABEL, ""))
}

/** Why an evolution failed, after the Evol-Instruct paper's elimination rules that need no model. */
export type EvolFailure = "empty" | "too_short" | "too_long" | "unchanged" | "contains_original" | "refusal" | "template_words"

const REFUSAL_START = /^(?:(?:i'?m |i am |so |very )?sorry|i apologi[sz]e|unfortunately|i(?:'m| am) (?:not able|unable)|i can(?:no|')t|(?:很|非常|十分)?抱歉|对不起|很遗憾|我(?:无法|不能|没法))/iu
const REFUSAL_ANYWHERE = /as an ai(?: language model\b|,)|i can(?:no|')t (?:help|assist) with (?:that|this)|作为(?:一个|一名)?(?:AI|人工智能)(?:语言模型|助手)|我无法(?:完成|满足)(?:这个|该|你的|您的)?(?:请求|要求)/iu
const TEMPLATE_WORDS = /(?:given|original|rewritten|created|new)\s+prompt|#\s*(?:the\s+)?\w+\s+prompt\s*#|原指令|改写后的指令|给定的指令|新指令/iu

const squash = (text: string): string => text.normalize("NFKC").replace(/\s+/gu, " ").trim()

/**
 * Why an evolved prompt should be eliminated, or undefined when it may stay: it is empty, too
 * short or too long; equals the original (`normalizedPromptKey`); contains the whole original
 * verbatim, up to width and runs of whitespace (`写一首诗。要求押韵。` contains `写一首诗。`;
 * `Sort a list of dates` does not contain `Sort a list.`); is a refusal (starts with `Sorry`,
 * `I can't`, `抱歉`, `我无法`, or says `as an AI language model`, `作为AI助手`); or copies the
 * template's own words (`rewritten prompt`, `原指令`).
 */
export const evolFailure = (original: string, evolved: string, limits?: LengthLimits): EvolFailure | undefined => {
  const length = lengthProblem(evolved, limits)
  if (length) return length
  if (normalizedPromptKey(evolved) === normalizedPromptKey(original)) return "unchanged"
  const verbatim = squash(original)
  if (verbatim !== "" && squash(evolved).includes(verbatim)) return "contains_original"
  if (REFUSAL_START.test(evolved.trim()) || REFUSAL_ANYWHERE.test(evolved)) return "refusal"
  if (TEMPLATE_WORDS.test(evolved)) return "template_words"
  return undefined
}
