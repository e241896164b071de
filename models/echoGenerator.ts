import { canonicalJson, sha256 } from "../core/hash.js"
import type { SampleText } from "./localGenerator.js"
import type { ChatMessage } from "./tokenizer.js"

/** The template an echo backend answers with when the spec names none. */
export const DEFAULT_ECHO_TEMPLATE = "{prompt}"

/** What the echo backend needs of one prompt: its conversation and how many samples to draw. */
export interface EchoRequest {
  readonly messages: readonly ChatMessage[]
  readonly samples: number
}

const PLACEHOLDER = /\{(prompt|sample|n)\}/gu

/** Characters (code points) of a text: the echo backend's tokens. */
const codePointCount = (text: string): number => {
  let count = 0
  for (let i = 0; i < text.length; i++, count++) if (text.charCodeAt(i) >= 0xd800 && text.charCodeAt(i) <= 0xdbff && i + 1 < text.length) i++
  return count
}

/** The first `limit` code points of a text. */
const firstCodePoints = (text: string, limit: number): string => Array.from(text).slice(0, limit).join("")

/**
 * Answers every prompt without a model: sample i (0-based) of a prompt is the template, with
 * `{prompt}` the prompt's last user message, `{sample}` i and `{n}` the sample count, written
 * i + 1 times (one copy per line). So the N samples of a prompt differ in length and repetition
 * and heuristic scorers rank them, deterministically. One token is one character: a response
 * longer than `maxNewTokens` characters is cut there (finish `length`). Records no log-probabilities.
 * Use for dry runs of a campaign's plumbing (shards, scoring, selection, commit) and to measure
 * the engine without a model.
 */
export const echoSamples = (requests: readonly EchoRequest[], template: string, maxNewTokens: number): SampleText[] => {
  const samples: SampleText[] = []
  requests.forEach((request, prompt) => {
    const user = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? ""
    const promptTokens = request.messages.reduce((sum, m) => sum + codePointCount(m.content), 0)
    for (let sample = 0; sample < request.samples; sample++) {
      const line = template.replace(PLACEHOLDER, (_, name: string) => (name === "prompt" ? user : name === "sample" ? String(sample) : String(request.samples)))
      const full = Array.from({ length: sample + 1 }, () => line).join("\n")
      const length = codePointCount(full)
      const cut = length > maxNewTokens
      const text = cut ? firstCodePoints(full, maxNewTokens) : full
      samples.push({ prompt, sample, text, tokenCount: cut ? maxNewTokens : length, promptTokens, logprobs: [], entropies: [], finish: cut ? "length" : "eos" })
    }
  })
  return samples
}

/** The echo backend's stand-in for a weights hash in lineage: a hash of its template. */
export const echoModelHash = (template: string): string => sha256(canonicalJson({ backend: "echo", template }))
