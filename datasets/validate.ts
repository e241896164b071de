import { Effect, Schema } from "effect"
import { InputInvalid, inputInvalid } from "../core/errors.js"
import { inputIssuesOf } from "../core/schemaIssues.js"

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

/**
 * Decodes caller input with a schema and turns every schema issue into an `InputIssue`
 * (field path, the value found there, what was expected). Excess keys are rejected.
 */
export const decodeInput = <S extends Schema.Decoder<unknown>>(schema: S, source: string, pathPrefix = "") => {
  const decode = Schema.decodeUnknownEffect(schema, { errors: "all", onExcessProperty: "error" })
  return (input: unknown): Effect.Effect<S["Type"], InputInvalid, S["DecodingServices"]> =>
    decode(input).pipe(
      Effect.mapError((error) => new InputInvalid({ source, issues: inputIssuesOf(error.issue, input, pathPrefix) }))
    )
}

