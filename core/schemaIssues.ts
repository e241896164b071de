import { SchemaIssue } from "effect"
import type { InputIssue } from "./errors.js"

type PathSegment = PropertyKey | { readonly key: PropertyKey }

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const keyOf = (segment: PathSegment): PropertyKey => (typeof segment === "object" && segment !== null ? segment.key : segment)

/** Renders a schema path as `a.b[0].c`, after an optional prefix (e.g. `line 3`). */
export const renderPath = (path: ReadonlyArray<PathSegment>, prefix = ""): string =>
  path.map(keyOf).reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`), prefix)

/** The value found at a schema path in the input, or undefined when the path does not exist. */
export const valueAt = (input: unknown, path: ReadonlyArray<PathSegment>): unknown => {
  let current: unknown = input
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<PropertyKey, unknown>)[keyOf(segment)]
  }
  return current
}

/** What a schema message says was expected, in the words winnow's errors use. */
export const expectedFrom = (message: string): string => {
  if (message === "Missing key") return "a value (this field is required)"
  if (message === "Expected no excess property") return "no such field (unknown key)"
  return message.replace(/^Expected /, "")
}

/**
 * Every issue of an effect Schema decoding failure as winnow `InputIssue`s: the field path, the
 * value found there and what was expected. Use wherever user input is decoded with a schema.
 */
export const inputIssuesOf = (issue: SchemaIssue.Issue, input: unknown, prefix = ""): InputIssue[] =>
  formatter(issue).issues.map((i) => {
    const path = i.path ?? []
    return { path: renderPath(path, prefix), value: valueAt(input, path), expected: expectedFrom(i.message) }
  })
