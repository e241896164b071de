/** One chat message, shaped like `models/`' and the prompt files' messages (OpenAI / TRL). */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}
