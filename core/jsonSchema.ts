import AjvDraft07 from "ajv"
import Ajv2020 from "ajv/dist/2020.js"

/** The JSON a response carries: the whole text, the body of a ```json fence, or the outermost {…} / […]. */
export type ExtractedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false }

const FENCE = /```(?:json|JSON)?[ \t]*\n([\s\S]*?)```/

const tryParse = (text: string): ExtractedJson => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/**
 * Finds the JSON in a model response. Tries, in order: the whole trimmed text, the first fenced
 * code block, and the span from the first `{` or `[` to the last matching closer.
 */
export const extractJson = (response: string): ExtractedJson => {
  const text = response.trim()
  const whole = tryParse(text)
  if (whole.ok) return whole
  const fence = FENCE.exec(text)
  if (fence) {
    const fenced = tryParse(fence[1]!.trim())
    if (fenced.ok) return fenced
  }
  const start = text.search(/[[{]/)
  if (start < 0) return { ok: false }
  const close = text[start] === "{" ? "}" : "]"
  const end = text.lastIndexOf(close)
  return end > start ? tryParse(text.slice(start, end + 1)) : { ok: false }
}

/** A compiled JSON Schema: `validate` says whether a value conforms. */
export interface CompiledSchema {
  readonly validate: (value: unknown) => boolean
}

type AjvClass = new (options: Record<string, unknown>) => { compile(schema: object): (value: unknown) => boolean }
const classOf = (module: unknown): AjvClass => ((module as { default?: unknown }).default ?? module) as AjvClass

const DRAFT_07 = /json-schema\.org\/draft-0[467]\/schema/

/**
 * Compiles a JSON Schema (draft 2020-12 unless its `$schema` names draft-04/06/07). Throws an
 * Error whose message says what is wrong when the schema itself is invalid.
 */
export const compileJsonSchema = (schema: Record<string, unknown>): CompiledSchema => {
  const draft07 = typeof schema.$schema === "string" && DRAFT_07.test(schema.$schema)
  const Ajv = classOf(draft07 ? AjvDraft07 : Ajv2020)
  const validate = new Ajv({ allErrors: false, strict: false, validateFormats: false }).compile(schema)
  return { validate: (value) => validate(value) === true }
}
