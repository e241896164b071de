import type { DuckDBConnection } from "@duckdb/node-api"
import { inputInvalid, type InputInvalid } from "../../core/errors.js"
import { queryObjects, sqlString, toNumber } from "../duck.js"
import type { Version } from "../manifest.js"
import { HAS_EARLIER_TURNS, isSingleTurn, kindOf, type ExportFormat, type ExportSchema } from "./schemas.js"

/**
 * What a pull refuses before it writes anything, each as an `InputInvalid` naming the field:
 * a schema for a kind of record the version does not hold, alpaca for conversations with
 * earlier turns, a license that is not a license identifier. Use them in `pull` only.
 */

const count = (n: number, singular: string, plural: string): string =>
  n === 0 ? `no ${plural}` : `${n} ${n === 1 ? singular : plural}`

/** "2 sft records and no dpo pairs": what a version holds, by kind, the kind it holds first. */
export const kindsOf = (version: Version): string => {
  const sft = count(version.manifest.counts.sft, "sft record", "sft records")
  const dpo = count(version.manifest.counts.dpo, "dpo pair", "dpo pairs")
  return version.manifest.counts.sft === 0 && version.manifest.counts.dpo > 0 ? `${dpo} and ${sft}` : `${sft} and ${dpo}`
}

const SCHEMAS_FOR = {
  sft: "sft, sharegpt, alpaca or raw",
  dpo: "dpo, sharegpt-dpo, alpaca-dpo or raw"
} as const

/**
 * Refuses a schema that would export no row: `dpo` (or a `-dpo` layout) on a version without
 * pairs, an SFT layout on one with only pairs, any schema on an empty version. The message
 * names what the version holds and the schemas that fit it.
 */
export const checkKinds = (source: string, version: Version, schema: ExportSchema): InputInvalid | null => {
  const { counts, dataset } = version.manifest
  const ref = `${dataset}@${version.id}`
  if (counts.records === 0) return inputInvalid(source, "schema", schema, `a version with records (${ref} holds none)`)
  const kind = kindOf(schema)
  if (kind === null || counts[kind] > 0) return null
  const other = kind === "sft" ? "dpo" : "sft"
  return inputInvalid(source, "schema", schema, `a schema for the records the version holds (${ref} holds ${kindsOf(version)}): ${SCHEMAS_FOR[other]}`)
}

/**
 * Refuses a single-turn layout (alpaca) when some exported records have earlier turns: alpaca
 * could carry them only in a `history` list whose JSON type readers guess from the rows.
 */
export const checkSingleTurn = async (db: DuckDBConnection, relation: string, schema: ExportSchema, source: string): Promise<InputInvalid | null> => {
  const kind = kindOf(schema)
  if (!isSingleTurn(schema) || kind === null) return null
  const [row] = await queryObjects(db, `SELECT count(*) FILTER (WHERE ${HAS_EARLIER_TURNS}) AS turns, count(*) AS total FROM ${relation} WHERE kind = ${sqlString(kind)}`)
  const turns = toNumber(row!.turns)
  if (turns === 0) return null
  const what = kind === "sft" ? "sft records" : "dpo pairs"
  const instead = kind === "sft" ? "sharegpt" : "sharegpt-dpo"
  return inputInvalid(source, "schema", schema,
    `single-turn conversations for ${schema} (${turns} of ${toNumber(row!.total)} ${what} have earlier turns, which alpaca keeps only in a history list JSON readers type from its rows): use --schema ${instead}`)
}

/** Hugging Face license identifiers: lower case, digits, `.`, `+`, `-` (apache-2.0, cc-by-4.0, llama3.1, other). */
const LICENSE_ID = /^[a-z0-9][a-z0-9.+-]{0,63}$/

/** Refuses a license that is not a license identifier, or one given for a format without a card. */
export const checkLicense = (source: string, license: string | undefined, format: ExportFormat): InputInvalid | null => {
  if (license === undefined) return null
  if (typeof license !== "string" || !LICENSE_ID.test(license)) {
    return inputInvalid(source, "license", license, "a Hugging Face license identifier in lower case, e.g. apache-2.0, mit, cc-by-4.0 or other")
  }
  return format === "hf" ? null : inputInvalid(source, "license", license, "no license with a single-file export (only --format hf writes a dataset card)")
}
