import { Template } from "@huggingface/jinja"
import { Tokenizer } from "tokenizers"
import { ModelUnsupported } from "../core/errors.js"
import type { ModelDir } from "./modelDir.js"

/** One chat message, as in OpenAI and TRL conversations. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

/**
 * A model's tokenizer and chat template. Use it to turn conversations into token ids and ids
 * back into text; the Rust `tokenizers` binding does the work.
 */
export class TextTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: Template | undefined,
    private readonly specials: Record<string, string>,
    private readonly addBosToTemplate: boolean
  ) {}

  /** Loads `tokenizer.json` and the chat template of a model directory. */
  static load(dir: ModelDir): TextTokenizer {
    let tokenizer: Tokenizer
    try {
      tokenizer = Tokenizer.fromFile(dir.tokenizerPath)
    } catch (e) {
      throw new ModelUnsupported({ model: dir.path, reason: `tokenizer.json does not load: ${(e as Error).message}` })
    }
    let template: Template | undefined
    try {
      template = dir.chatTemplate ? new Template(dir.chatTemplate) : undefined
    } catch (e) {
      throw new ModelUnsupported({ model: dir.path, reason: `chat template does not parse: ${(e as Error).message}` })
    }
    const specials: Record<string, string> = {}
    for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
      const value = dir.tokenizerConfig[key]
      const content = typeof value === "string" ? value : (value as { content?: string } | null)?.content
      if (content) specials[key] = content
    }
    return new TextTokenizer(tokenizer, template, specials, dir.tokenizerConfig.add_bos_token === true)
  }

  /** Renders a conversation with the model's chat template (or plain text if it has none). */
  renderChat(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (!this.template) return messages.map((m) => m.content).join("\n\n") + (addGenerationPrompt ? "\n\n" : "")
    return this.template.render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.specials.bos_token ?? "",
      eos_token: this.specials.eos_token ?? "",
      pad_token: this.specials.pad_token ?? "",
      unk_token: this.specials.unk_token ?? ""
    })
  }

  /** Token ids of text that already contains any special tokens it needs (e.g. a rendered chat). */
  async encode(text: string, addSpecialTokens = false): Promise<number[]> {
    const encoding = await this.tokenizer.encode(text, null, { addSpecialTokens })
    const ids = encoding.getIds()
    const bos = this.specials.bos_token ? this.tokenizer.tokenToId(this.specials.bos_token) : null
    if (this.addBosToTemplate && bos !== null && ids[0] !== bos && !addSpecialTokens) return [bos, ...ids]
    return ids
  }

  /** Text of token ids; special tokens are dropped unless `keepSpecial`. */
  decode(ids: readonly number[], keepSpecial = false): Promise<string> {
    return this.tokenizer.decode([...ids], !keepSpecial)
  }

  /** Id of a token string, if the vocabulary has it. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.tokenToId(token) ?? undefined
  }

  /** The special token configured under `key` (e.g. `eos_token`), if any. */
  special(key: "bos_token" | "eos_token" | "pad_token" | "unk_token"): string | undefined {
    return this.specials[key]
  }
}
