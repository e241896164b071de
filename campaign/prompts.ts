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
  prompt: Schema.optionalKey(Schema.Union([Schema.String.pipe(Schema.check(Schema.isNonEmpty())), Schema.Array(Message).pipe(Schema.check(Schema.isMinLength(1)))])),
  messages: Schema.optionalKey(Schema.Array(Message).pipe(Schema.check(Schema.isMinLength(1)))),
  reference: Schema.optionalKey(Schema.Union([Schema.String, Schema.Finite]))
})

const KNOWN_KEYS = new Set(["id", "prompt", "messages", "reference"])

/**
 * A conversation without the assistant turns that end it: an SFT export's rows (`messages`
 * ending with the kept answer) and a DPO export's rows (`prompt` as a conversation) read back as
 * the prompts they answered.
 */
const answeredTurnsDropped = <M extends { readonly role: string }>(messages: readonly M[]): readonly M[] => {
  let end = messages.length
  while (end > 1 && messages[end - 1]!.role === "assistant") end--
  return end === messages.length ? messages : messages.slice(0, end)
}

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
 * fields of the line's own, kept as `fields`) into normalised prompt records. Assistant turns at
 * the end of a conversation are dropped, so winnow's own SFT and DPO exports read as prompt files. A numeric reference
 * becomes its decimal text. Every bad line is reported with its line number and field. Ids
 * default to a hash of the conversation, so re-running a file gives the same ids.
 */
export const parsePrompts = (text: string, source: string): Result.Result<PromptRecord[], InputInvalid> =>
  Result.map(parsePromptFile(text, source), (file) => file.prompts)

/** A parsed prompt file: its prompts, and the line each prompt id came from (for messages that name it). */
export interface PromptFile {
  readonly prompts: PromptRecord[]
  readonly lineOf: ReadonlyMap<string, number>
}

const LONE_SURROGATE = /\p{Cs}/u

/** The first string inside a JSON value that holds a lone UTF-16 surrogate (what JSON "\ud800" escapes make), as a path. */
const illFormedString = (value: unknown, path: string): string | undefined => {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? path : undefined
  if (Array.isArray(value)) return value.map((v, i) => illFormedString(v, `${path}[${i}]`)).find((p) => p !== undefined)
  if (value !== null && typeof value === "object") return Object.entries(value).map(([k, v]) => illFormedString(v, `${path}.${k}`)).find((p) => p !== undefined)
  return undefined
}

/**
 * Decodes a prompt file's bytes as UTF-8, refusing (instead of replacing) invalid bytes and
 * naming the line they are on: a prompt changed by lossy decoding would be sampled silently.
 */
export const decodePromptBytes = (bytes: Uint8Array, source: string): Result.Result<string, InputInvalid> => {
  try {
    return Result.succeed(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
  } catch {
    let line = 1
    for (let start = 0; start < bytes.length;) {
      let end = bytes.indexOf(0x0a, start)
      if (end === -1) end = bytes.length
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, end))
      } catch {
        return Result.fail(new InputInvalid({ source, issues: [{ path: `line ${line}`, value: "bytes that are not UTF-8", expected: "UTF-8 text (re-encode the file, e.g. with iconv -f GB18030 -t UTF-8)" }] }))
      }
      start = end + 1
      line++
    }
    return Result.fail(new InputInvalid({ source, issues: [{ path: "(file)", value: "bytes that are not UTF-8", expected: "UTF-8 text" }] }))
  }
}

/** Like `parsePrompts`, also giving the line of each prompt. */
export const parsePromptFile = (text: string, source: string): Result.Result<PromptFile, InputInvalid> => {
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
    const illFormed = illFormedString(value, at)
    if (illFormed !== undefined) {
      issues.push({ path: illFormed, value: "a lone UTF-16 surrogate (\\ud800–\\udfff escaped alone)", expected: "well-formed Unicode text" })
      continue
    }
    if ((line.prompt === undefined) === (line.messages === undefined)) {
      issues.push({ path: at, value, expected: 'exactly one of "prompt" (a string or a conversation) or "messages" (a conversation)' })
      continue
    }
    const given = line.messages ?? (typeof line.prompt === "string" ? [{ role: "user" as const, content: line.prompt }] : line.prompt!)
    const messages = answeredTurnsDropped(given)
    if (messages.at(-1)!.content.trim() === "") {
      issues.push({ path: line.prompt !== undefined ? `${at}.prompt` : `${at}.messages[${messages.length - 1}].content`, value: messages.at(-1)!.content, expected: "text to answer (not only whitespace)" })
      continue
    }
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
  return Result.succeed({ prompts, lineOf: seen })
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

const utf8 = new TextEncoder()

/** UTF-8 bytes of a prompt's turns: a bound on its tokens under a byte-level tokenizer (every token is at least a byte). */
export const promptBytes = (prompt: PromptRecord): number =>
  prompt.messages.reduce((sum, m) => sum + utf8.encode(m.content).length, 0)

/**
 * The stored form of a list of prompts: its content address, size, the page size its files are
 * cut into, and the largest prompt's UTF-8 bytes (what budgets reserve as its most input tokens).
 * The one place a prompt set is named.
 */
export const promptSetOf = (prompts: readonly PromptRecord[], pageSize: number): { ref: string; count: number; pageSize: number; maxInputBytes: number } => ({
  ref: sha256(prompts.map((p) => canonicalJson(p)).join("\n") + "\n"),
  count: prompts.length,
  pageSize,
  maxInputBytes: prompts.reduce((max, p) => Math.max(max, promptBytes(p)), 0)
})
