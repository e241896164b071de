import type { TextTokenizer } from "./tokenizer.js"

/**
 * Turns a growing list of generated token ids into text deltas for streaming. Byte-level
 * tokens can split a Chinese character across steps; decoding them alone gives U+FFFD, so the
 * trailing replacement characters are held back until the next token completes them (or until
 * `finish`). Decodes the whole sample each time, so it stays right for tokenizers whose decoders
 * strip or merge spaces at the start of a sequence. One instance per sample.
 */
export class IncrementalDetokenizer {
  private emitted = ""

  constructor(private readonly tokenizer: TextTokenizer) {}

  /** Text to append after the tokens so far; never ends in a broken character. */
  async push(tokens: readonly number[]): Promise<string> {
    const text = await this.tokenizer.decode(tokens)
    let end = text.length
    while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--
    return this.advance(text.slice(0, end))
  }

  /** Whatever is left once the sample has ended, replacement characters included. */
  async finish(tokens: readonly number[]): Promise<string> {
    return this.advance(await this.tokenizer.decode(tokens))
  }

  /** Everything emitted so far. */
  get text(): string {
    return this.emitted
  }

  private advance(stable: string): string {
    if (stable.length <= this.emitted.length || !stable.startsWith(this.emitted)) return ""
    const delta = stable.slice(this.emitted.length)
    this.emitted = stable
    return delta
  }
}
