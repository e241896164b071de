import { readFileSync } from "node:fs"
import { Tokenizer } from "tokenizers"
import { ModelUnsupported } from "../core/errors.js"

/** One generated token as OpenAI's logprobs report it: its text and its raw UTF-8 bytes. */
export interface TokenPiece {
  readonly token: string
  readonly bytes: number[]
}

type Decoding = "byte-level" | "sentencepiece" | "plain"

/**
 * The bytes and text of single tokens, for `logprobs.content[i].token` and `.bytes`. Byte-level
 * BPE vocabularies (GPT-2, Llama 3, Qwen) map each character back to its byte; SentencePiece
 * vocabularies (Llama 2, Mistral) use `▁` for spaces and `<0xNN>` byte-fallback tokens. A token
 * holding part of a multi-byte character gets the replacement character as text and its true
 * bytes, so joining the bytes of all tokens gives the exact UTF-8 of the text.
 */
export class TokenPieces {
  private readonly decoder = new TextDecoder("utf-8", { fatal: false })

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly decoding: Decoding,
    private readonly added: ReadonlyMap<number, string>
  ) {}

  /** Loads the vocabulary of a model's `tokenizer.json`. */
  static load(tokenizerPath: string): TokenPieces {
    let json: { decoder?: unknown; added_tokens?: Array<{ id: number; content: string }> }
    let tokenizer: Tokenizer
    try {
      json = JSON.parse(readFileSync(tokenizerPath, "utf8"))
      tokenizer = Tokenizer.fromFile(tokenizerPath)
    } catch (e) {
      throw new ModelUnsupported({ model: tokenizerPath, reason: `tokenizer.json does not load: ${(e as Error).message}` })
    }
    const types = decoderTypes(json.decoder)
    const decoding: Decoding = types.has("ByteLevel") ? "byte-level" : types.has("ByteFallback") || types.has("Metaspace") ? "sentencepiece" : "plain"
    const added = new Map((json.added_tokens ?? []).map((t) => [t.id, t.content]))
    return new TokenPieces(tokenizer, decoding, added)
  }

  /** The piece of one token id. */
  piece(id: number): TokenPiece {
    const bytes = this.bytesOf(id)
    return { token: this.decoder.decode(Uint8Array.from(bytes)), bytes }
  }

  private bytesOf(id: number): number[] {
    const special = this.added.get(id)
    if (special !== undefined) return [...Buffer.from(special, "utf8")]
    const raw = this.tokenizer.idToToken(id) ?? ""
    if (this.decoding === "byte-level") return [...raw].map((ch) => BYTE_OF_CHAR.get(ch) ?? 0x3f)
    if (this.decoding === "sentencepiece") {
      const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(raw)
      if (fallback) return [parseInt(fallback[1]!, 16)]
      return [...Buffer.from(raw.replaceAll("\u2581", " "), "utf8")]
    }
    return [...Buffer.from(raw, "utf8")]
  }
}

const decoderTypes = (decoder: unknown): Set<string> => {
  const types = new Set<string>()
  const visit = (node: unknown) => {
    if (node === null || typeof node !== "object") return
    const d = node as { type?: unknown; decoders?: unknown }
    if (typeof d.type === "string") types.add(d.type)
    if (Array.isArray(d.decoders)) d.decoders.forEach(visit)
  }
  visit(decoder)
  return types
}

/**
 * The byte-level BPE alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * are shifted to code points from 256 upwards in byte order. This is its inverse.
 */
const BYTE_OF_CHAR: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  const map = new Map<string, number>()
  let shifted = 0
  for (let b = 0; b < 256; b++) {
    const code = printable(b) ? b : 256 + shifted++
    map.set(String.fromCodePoint(code), b)
  }
  return map
})()
