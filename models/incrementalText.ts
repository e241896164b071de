import type { TextTokenizer } from "./tokenizer.js"

/**
 * Turns a growing list of generated token ids into text deltas for streaming. Byte-level
 * tokens can split a Chinese character across steps; decoding them alone gives U+FFFD, so the
 * trailing replacement characters are held back until the next token completes them (or until
 * `finish`). Each step decodes only a short window: the tokens since the last fully stable point,
 * with the chunk before them as context, and takes the difference of the two decodes, so
 * decoders that strip or merge spaces at the start of a sequence treat both alike and the cost
 * per step does not grow with the sample. One instance per sample.
 */
export class IncrementalDetokenizer {
  private emitted = ""
  /** first token of the decode window */
  private prefix = 0
  /** tokens before this one have all their text emitted */
  private read = 0
  /** characters of the text after `read` already emitted (a stable part before a broken character) */
  private pending = 0

  constructor(private readonly tokenizer: TextTokenizer) {}

  /** Text to append after the tokens so far; never ends in a broken character. */
  async push(tokens: readonly number[]): Promise<string> {
    const [before, now] = await Promise.all([
      this.tokenizer.decode(tokens.slice(this.prefix, this.read)),
      this.tokenizer.decode(tokens.slice(this.prefix))
    ])
    if (!now.startsWith(before)) return ""
    let end = now.length
    while (end > before.length && now.charCodeAt(end - 1) === 0xfffd) end--
    const fresh = now.slice(before.length, end)
    const delta = fresh.length > this.pending ? fresh.slice(this.pending) : ""
    this.emitted += delta
    if (end === now.length) {
      this.prefix = this.read
      this.read = tokens.length
      this.pending = 0
    } else this.pending = Math.max(this.pending, fresh.length)
    return delta
  }

  /** Whatever is left once the sample has ended, replacement characters included. */
  async finish(tokens: readonly number[]): Promise<string> {
    const text = await this.tokenizer.decode(tokens)
    if (text.length <= this.emitted.length || !text.startsWith(this.emitted)) return ""
    const delta = text.slice(this.emitted.length)
    this.emitted = text
    return delta
  }

  /** Everything emitted so far. */
  get text(): string {
    return this.emitted
  }
}
