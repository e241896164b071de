import { Result, Schema } from "effect"
import { InputInvalid, type InputIssue } from "../core/errors.js"
import { canonicalJson, sha256 } from "../core/hash.js"
import { inputIssuesOf } from "../core/schemaIssues.js"

const Message = Schema.Struct({
  role: Schema.Literals(["system", "user", "assistant"]),
  content: Schema.String
})

const PromptLine = Schema.Struct({
  id: Schema.optionalKey(Schema.Union([Schema.String.pipe(Schema.check(Schema.isNonEmpty())), Schema.Number])),
  prompt: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isNonEmpty()))),
  messages: Schema.optionalKey(Schema.Array(Message).pipe(Schema.check(Schema.isMinLength(1)))),
  reference: Schema.optionalKey(Schema.Union([Schema.String, Schema.Finite]))
})

const KNOWN_KEYS = new Set(["id", "prompt", "messages", "reference"])

/** One prompt of a campaign, normalised: a stable id, the conversation, an optional reference answer. */
export interface PromptRecord {
  readonly id: string
  readonly messages: ReadonlyArray<{ readonly role: "system" | "user" | "assistant"; readonly content: string }>
  readonly reference?: string
  /**
   * Set on a curriculum's hinted copy (STaR rationalization): the prompt it copies and that
   * prompt's conversation, which its records keep instead of the hinted one.
   */
  readonly hint?: { readonly of: string; readonly messages: PromptRecord["messages"] }
  /** The prompt line's own fields (`lang`, `source`, `difficulty`, any metadata), passed through into its records' `meta.prompt`. */
  readonly fields?: Readonly<Record<string, unknown>>
}

const decodeLine = Schema.decodeUnknownResult(PromptLine, { onExcessProperty: "ignore", errors: "all" })
const MAX_ISSUES = 20

/**
 * Parses a prompts JSONL text (`{"id"?, "prompt" | "messages", "reference"?}` per line, plus any
 * fields of the line's own, kept as `fields`) into normalised prompt records. A numeric reference
 * becomes its decimal text. Every bad line is reported with its line number and field. Ids
 * default to a hash of the conversation, so re-running a file gives the same ids.
 */
export const parsePrompts = (text: string, source: string): Result.Result<PromptRecord[], InputInvalid> => {
  const issues: InputIssue[] = []
  const prompts: PromptRecord[] = []
  const seen = new Map<string, number>()
  const lines = text.split("\n")
  for (let i = 0; i < lines.length && issues.length < MAX_ISSUES; i++) {
    const raw = lines[i]!.trim()
    if (raw === "") continue
    const at = `line ${i + 1}`
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      issues.push({ path: at, value: raw, expected: "a JSON object" })
      continue
    }
    const decoded = decodeLine(value)
    if (Result.isFailure(decoded)) {
      issues.push(...inputIssuesOf(decoded.failure.issue, value, at))
      continue
    }
    const line = decoded.success
    if ((line.prompt === undefined) === (line.messages === undefined)) {
      issues.push({ path: at, value, expected: 'exactly one of "prompt" (a string) or "messages" (a conversation)' })
      continue
    }
    const messages = line.messages ?? [{ role: "user" as const, content: line.prompt! }]
    if (messages.at(-1)!.role !== "user") {
      issues.push({ path: `${at}.messages[${messages.length - 1}].role`, value: messages.at(-1)!.role, expected: '"user" (the conversation must end with the user turn to answer)' })
      continue
    }
    const id = line.id !== undefined ? String(line.id) : `p-${sha256(canonicalJson(messages)).slice(0, 16)}`
    const first = seen.get(id)
    if (first !== undefined) {
      issues.push({ path: `${at}.id`, value: id, expected: `a unique id (line ${first} has the same)` })
      continue
    }
    seen.set(id, i + 1)
    const fields = Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([key]) => !KNOWN_KEYS.has(key)))
    prompts.push({
      id,
      messages,
      ...(line.reference !== undefined ? { reference: String(line.reference) } : {}),
      ...(Object.keys(fields).length > 0 ? { fields } : {})
    })
  }
  if (issues.length > 0) return Result.fail(new InputInvalid({ source, issues }))
  if (prompts.length === 0) return Result.fail(new InputInvalid({ source, issues: [{ path: "(file)", value: "", expected: "at least one prompt line" }] }))
  return Result.succeed(prompts)
}

/** Splits `count` prompts into shards of at most `perShard`. */
export const planShards = (count: number, perShard: number): Array<{ index: number; start: number; end: number }> =>
  Array.from({ length: Math.ceil(count / perShard) }, (_, index) => ({
    index,
    start: index * perShard,
    end: Math.min(count, (index + 1) * perShard)
  }))

/** One turn of a prompt's conversation. */
export type PromptMessage = PromptRecord["messages"][number]

/**
 * The conversation the generator answers, scorers judge and records keep: the spec's system
 * prompt (unless the prompt brings its own system turn), then the prompt's turns. The one place
 * a conversation is built from a prompt.
 */
export const conversationOf = (systemPrompt: string | undefined, prompt: PromptRecord): readonly PromptMessage[] =>
  systemPrompt !== undefined && prompt.messages[0]?.role !== "system"
    ? [{ role: "system", content: systemPrompt }, ...prompt.messages]
    : prompt.messages

/**
 * The conversation a record keeps: as sampled, except for a hinted copy, whose records pair the
 * response with the prompt as written (the hint is how it was found, not part of the data).
 */
export const recordConversationOf = (systemPrompt: string | undefined, prompt: PromptRecord): readonly PromptMessage[] =>
  conversationOf(systemPrompt, prompt.hint ? { id: prompt.hint.of, messages: prompt.hint.messages } : prompt)

/** The last user turn of a conversation (what a scorer calls "the prompt"); empty when there is none. */
export const lastUserTurn = (messages: readonly PromptMessage[]): string =>
  [...messages].reverse().find((m) => m.role === "user")?.content ?? ""
