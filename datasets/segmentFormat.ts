import { hash } from "node:crypto"
import type { DatasetRecord } from "./record.js"
import { sqlString } from "./duck.js"

/** Formats a segment object can have: zstd Parquet (written now) or JSONL (first-cut stores, read only). */
export type SegmentFormat = "parquet" | "jsonl"

/**
 * The column layout of every segment, in order, with DuckDB types. One row per record; SFT
 * rows leave `chosen`/`rejected`/`score_*` NULL, DPO rows leave `response`/`sample_index` NULL.
 * `meta` holds free-form JSON. Rows are sorted by `id` inside a segment.
 */
export const SEGMENT_COLUMNS = [
  ["id", "VARCHAR"],
  ["kind", "VARCHAR"],
  ["prompt_id", "VARCHAR"],
  ["messages", "STRUCT(role VARCHAR, content VARCHAR)[]"],
  ["response", "VARCHAR"],
  ["chosen", "VARCHAR"],
  ["rejected", "VARCHAR"],
  ["score", "DOUBLE"],
  ["scores", "MAP(VARCHAR, DOUBLE)"],
  ["score_chosen", "DOUBLE"],
  ["score_rejected", "DOUBLE"],
  ["round", "INTEGER"],
  ["sample_index", "INTEGER"],
  ["reference", "VARCHAR"],
  ["meta", "JSON"]
] as const

/** The column names of a segment, comma-separated, in layout order. */
export const SEGMENT_COLUMN_LIST = SEGMENT_COLUMNS.map(([name]) => name).join(", ")

const READ_JSON_COLUMNS = `{${SEGMENT_COLUMNS.map(([name, type]) => `${name}: ${sqlString(type)}`).join(", ")}}`

/** SQL that reads newline-delimited JSON rows (see `recordRow`) with exactly the segment columns. */
export const readJsonRows = (path: string): string =>
  `read_json(${sqlString(path)}, format = 'newline_delimited', columns = ${READ_JSON_COLUMNS})`

/** SQL relation over one segment object, whatever its format, yielding the segment columns. */
export const segmentRelation = (path: string, format: SegmentFormat): string =>
  format === "parquet"
    ? `(SELECT ${SEGMENT_COLUMN_LIST} FROM read_parquet(${sqlString(path)}))`
    : `(SELECT ${SEGMENT_COLUMN_LIST} FROM ${readJsonRows(path)})`

/**
 * SQL relation over several segment objects, concatenated in the order given (one multi-file
 * Parquet scan when all are Parquet, so DuckDB keeps file order under insertion-order preservation).
 */
export const segmentsRelation = (objects: ReadonlyArray<{ readonly path: string; readonly format: SegmentFormat }>): string => {
  if (objects.length === 0) return `(SELECT ${SEGMENT_COLUMNS.map(([name, type]) => `CAST(NULL AS ${type}) AS ${name}`).join(", ")} LIMIT 0)`
  if (objects.every((o) => o.format === "parquet")) {
    return `(SELECT ${SEGMENT_COLUMN_LIST} FROM read_parquet([${objects.map((o) => sqlString(o.path)).join(", ")}]))`
  }
  return `(${objects.map((o) => `SELECT * FROM ${segmentRelation(o.path, o.format)}`).join(" UNION ALL ")})`
}

/** The JSON row of one record as staging writes it for `read_json` (every column present). */
export const recordRow = (record: DatasetRecord): Record<string, unknown> => ({
  id: record.id,
  kind: record.kind,
  prompt_id: record.prompt_id,
  messages: record.messages.map((m) => ({ role: m.role, content: m.content })),
  response: record.kind === "sft" ? record.response : null,
  chosen: record.kind === "dpo" ? record.chosen : null,
  rejected: record.kind === "dpo" ? record.rejected : null,
  score: record.score,
  scores: record.scores,
  score_chosen: record.kind === "dpo" ? record.score_chosen ?? null : null,
  score_rejected: record.kind === "dpo" ? record.score_rejected ?? null : null,
  round: record.round,
  sample_index: record.kind === "sft" ? record.sample_index ?? null : null,
  reference: record.reference ?? null,
  meta: record.meta ?? null
})

const str = (value: string | undefined): string => (value === undefined ? "null" : JSON.stringify(value))
const num = (value: number | undefined): string => (value === undefined ? "null" : JSON.stringify(value))

/**
 * Staging's encoding of one record in a single pass over its strings (each escaped once): the
 * id its content hashes to (`recordId`) and its `read_json` row (`JSON.stringify(recordRow(r))`).
 */
export const stagedRow = (record: DatasetRecord): { readonly contentId: string; readonly row: string } => {
  let contentMessages = ""
  let rowMessages = ""
  for (const m of record.messages) {
    const role = JSON.stringify(m.role)
    const content = JSON.stringify(m.content)
    const sep = contentMessages === "" ? "" : ","
    contentMessages += `${sep}{"content":${content},"role":${role}}`
    rowMessages += `${sep}{"role":${role},"content":${content}}`
  }
  const sft = record.kind === "sft" ? record : undefined
  const dpo = record.kind === "dpo" ? record : undefined
  const response = str(sft?.response)
  const chosen = str(dpo?.chosen)
  const rejected = str(dpo?.rejected)
  const content = sft
    ? `{"kind":"sft","messages":[${contentMessages}],"response":${response}}`
    : `{"chosen":${chosen},"kind":"dpo","messages":[${contentMessages}],"rejected":${rejected}}`
  const row = `{"id":${JSON.stringify(record.id)},"kind":"${record.kind}","prompt_id":${JSON.stringify(record.prompt_id)},"messages":[${rowMessages}],` +
    `"response":${response},"chosen":${chosen},"rejected":${rejected},"score":${JSON.stringify(record.score)},` +
    `"scores":${JSON.stringify(record.scores)},"score_chosen":${num(dpo?.score_chosen)},"score_rejected":${num(dpo?.score_rejected)},` +
    `"round":${record.round},"sample_index":${num(sft?.sample_index)},"reference":${str(record.reference)},"meta":${record.meta === undefined ? "null" : JSON.stringify(record.meta)}}`
  return { contentId: hash("sha256", content, "hex"), row }
}

/**
 * Rebuilds a record from a segment row as DuckDB returns it in JS form (maps as
 * `{key, value}` entry lists, JSON as text). Inverse of `recordRow`.
 */
export const rowRecord = (row: Record<string, unknown>): DatasetRecord => {
  const scores: Record<string, number> = {}
  for (const entry of (row.scores ?? []) as ReadonlyArray<{ key: string; value: number }>) scores[entry.key] = entry.value
  const common = {
    id: row.id as string,
    prompt_id: row.prompt_id as string,
    messages: (row.messages as Array<{ role: "system" | "user" | "assistant"; content: string }>)
      .map((m) => ({ role: m.role, content: m.content })),
    score: row.score as number,
    scores,
    round: row.round as number,
    ...(row.reference != null ? { reference: row.reference as string } : {}),
    ...(row.meta != null ? { meta: JSON.parse(row.meta as string) as Record<string, unknown> } : {})
  }
  if (row.kind === "dpo") {
    return {
      ...common,
      kind: "dpo",
      chosen: row.chosen as string,
      rejected: row.rejected as string,
      ...(row.score_chosen != null ? { score_chosen: row.score_chosen as number } : {}),
      ...(row.score_rejected != null ? { score_rejected: row.score_rejected as number } : {})
    }
  }
  return {
    ...common,
    kind: "sft",
    response: row.response as string,
    ...(row.sample_index != null ? { sample_index: row.sample_index as number } : {})
  }
}

/** SQL expression: the prompt text of a segment row (its user turns, joined by newlines). */
export const PROMPT_TEXT_SQL =
  "array_to_string(list_transform(list_filter(messages, m -> m.role = 'user'), m -> m.content), chr(10))"

/** SQL expression: the answer text of a segment row (SFT response, or DPO chosen + rejected). */
export const ANSWER_TEXT_SQL =
  "CASE WHEN kind = 'sft' THEN response ELSE concat(chosen, chr(10), rejected) END"
