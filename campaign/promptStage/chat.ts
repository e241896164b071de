/** One chat message, shaped like `models/`' and the prompt files' messages (OpenAI / TRL). */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

/** The content of the last user message (the turn a model answers); "" when there is none. */
export const lastUserContent = (messages: readonly ChatMessage[]): string =>
  [...messages].reverse().find((m) => m.role === "user")?.content ?? ""
