import { Effect, Schema, SchemaIssue } from "effect"
import { InputInvalid, inputInvalid, type InputIssue } from "../core/errors.js"

/** Dataset names: lower case, one path segment, no leading dot or dash. Used as a directory name. */
export const DATASET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Campaign ids appear in staging paths, so they must be one safe path segment (upper case allowed). */
export const CAMPAIGN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const DATASET_NAME_EXPECTED = "a dataset name matching ^[a-z0-9][a-z0-9._-]{0,63}$"

/** Checks a dataset name before it becomes a directory; use on every name that comes from a caller. */
export const validateDatasetName = (source: string, path: string, name: unknown): Effect.Effect<string, InputInvalid> =>
  typeof name === "string" && DATASET_NAME.test(name)
    ? Effect.succeed(name)
    : Effect.fail(inputInvalid(source, path, name, DATASET_NAME_EXPECTED))

/** True when a tag would be mistaken for `latest`, a sequence number or a version id prefix. */
export const isAmbiguousTag = (tag: string): boolean =>
  tag === "latest" || /^[0-9]+$/.test(tag) || /^[0-9a-f]{4,}$/.test(tag)

/** Checks a tag name before it becomes a ref file under `refs/tags/`. */
export const validateTagName = (source: string, path: string, tag: unknown): Effect.Effect<string, InputInvalid> =>
  typeof tag === "string" && DATASET_NAME.test(tag) && !isAmbiguousTag(tag)
    ? Effect.succeed(tag)
    : Effect.fail(inputInvalid(source, path, tag,
      "a tag matching ^[a-z0-9][a-z0-9._-]{0,63}$ that is not \"latest\", not a number and not 4+ hex chars"))

/** Checks a campaign id before it becomes a staging directory. */
export const validateCampaignId = (source: string, path: string, id: unknown): Effect.Effect<string, InputInvalid> =>
  typeof id === "string" && CAMPAIGN_ID.test(id)
    ? Effect.succeed(id)
    : Effect.fail(inputInvalid(source, path, id, "a campaign id matching ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"))

/** Checks a round or shard number (a non-negative safe integer). */
export const validateIndex = (source: string, path: string, value: unknown): Effect.Effect<number, InputInvalid> =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0
    ? Effect.succeed(value)
    : Effect.fail(inputInvalid(source, path, value, "a non-negative integer"))

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Decodes caller input with a schema and turns every schema issue into an `InputIssue`
 * (field path, the value found there, what was expected). Excess keys are rejected.
 */
export const decodeInput = <S extends Schema.Decoder<unknown>>(schema: S, source: string, pathPrefix = "") => {
  const decode = Schema.decodeUnknownEffect(schema, { errors: "all", onExcessProperty: "error" })
  return (input: unknown): Effect.Effect<S["Type"], InputInvalid, S["DecodingServices"]> =>
    decode(input).pipe(
      Effect.mapError((error) => new InputInvalid({ source, issues: toInputIssues(error, input, pathPrefix) }))
    )
}

const toInputIssues = (error: Schema.SchemaError, input: unknown, pathPrefix: string): Array<InputIssue> =>
  formatter(error.issue).issues.map((issue) => {
    const keys = (issue.path ?? []).map((segment) =>
      typeof segment === "object" && segment !== null && "key" in segment ? segment.key : segment)
    return {
      path: renderPath(pathPrefix, keys),
      value: valueAt(input, keys),
      expected: issue.message.replace(/^Expected /, "")
    }
  })

/** Renders `["records", 3, "role"]` as `records[3].role`, after an optional prefix. */
export const renderPath = (prefix: string, keys: ReadonlyArray<PropertyKey>): string =>
  keys.reduce<string>((acc, key) =>
    typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`, prefix)

const valueAt = (input: unknown, keys: ReadonlyArray<PropertyKey>): unknown => {
  let current: unknown = input
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}
