import { sqlIdent, sqlString } from "../duck.js"

/**
 * Export row layouts, each a projection of the internal record (one SQL select over the
 * version's segments). Which records each takes: `sft`, `sharegpt`, `alpaca` the SFT records,
 * `dpo`, `sharegpt-dpo`, `alpaca-dpo` the preference pairs, `raw` all of them.
 */
export const EXPORT_SCHEMAS = ["sft", "dpo", "raw", "sharegpt", "alpaca", "sharegpt-dpo", "alpaca-dpo"] as const
/** An export row layout (see `EXPORT_SCHEMAS`). */
export type ExportSchema = (typeof EXPORT_SCHEMAS)[number]

/** Output forms: one JSONL file, one zstd Parquet file, or a Hugging Face dataset-repo folder. */
export const EXPORT_FORMATS = ["jsonl", "parquet", "hf"] as const
/** An output form (see `EXPORT_FORMATS`). */
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The LLaMA-Factory layouts: each export also writes its `dataset_info.json` entry. */
export type LlamaFactorySchema = "sharegpt" | "alpaca" | "sharegpt-dpo" | "alpaca-dpo"

/** Whether a schema is a LLaMA-Factory layout (see `LlamaFactorySchema`). */
export const isLlamaFactory = (schema: ExportSchema): schema is LlamaFactorySchema =>
  schema === "sharegpt" || schema === "alpaca" || schema === "sharegpt-dpo" || schema === "alpaca-dpo"

/** The record kind a schema exports (`null`: every record). */
export const kindOf = (schema: ExportSchema): "sft" | "dpo" | null =>
  schema === "raw" ? null : schema === "dpo" || schema.endsWith("-dpo") ? "dpo" : "sft"

/**
 * Whether a schema is single-turn: alpaca keeps earlier turns only in a `history` list, and an
 * export whose rows all have none would write it as empty lists, which JSON readers type as a
 * list of nulls (then another export's strings no longer fit). Alpaca exports therefore carry no
 * history and refuse conversations with earlier turns; sharegpt carries any number of turns.
 */
export const isSingleTurn = (schema: ExportSchema): boolean => schema === "alpaca" || schema === "alpaca-dpo"

/** SQL condition: the record's prompt has turns before its last user message (system aside). */
export const HAS_EARLIER_TURNS = "len(list_filter(messages, m -> m.role <> 'system')) > 1"

const NON_SYSTEM = "list_filter(messages, m -> m.role <> 'system')"
const SYSTEM_TEXT = "coalesce(list_filter(messages, m -> m.role = 'system')[1].content, '')"
const LAST_USER = "coalesce(list_filter(messages, m -> m.role = 'user')[-1].content, '')"
const assistant = (column: string) => `list_append(messages, {'role': 'assistant', 'content': ${column}})`
const SHAREGPT_TURNS = `list_transform(${NON_SYSTEM}, m -> {'from': CASE WHEN m.role = 'user' THEN 'human' ELSE 'gpt' END, 'value': m.content})`

/**
 * `scores` as a struct with one field per scorer (Parquet maps load badly in some readers);
 * `null` when the version has no per-scorer scores.
 */
const scoresStruct = (scorers: ReadonlyArray<string>): string | null =>
  scorers.length === 0
    ? null
    : `struct_pack(${scorers.map((name) => `${sqlIdent(name)} := scores[${sqlString(name)}]`).join(", ")}) AS scores`

/**
 * The select list of a schema. `sft`: TRL conversational SFT, `messages` ending with the kept
 * answer, plus scores and ids. `dpo`: ultrafeedback_binarized's columns (`prompt`, `chosen`,
 * `rejected`, `score_chosen`, `score_rejected`, `prompt_id`) in TRL's conversational form with
 * an explicit prompt: `prompt` is the list of prompt messages, `chosen` and `rejected` one
 * assistant message each (every column a message list, so TRL never mixes the string and
 * conversational forms). `sharegpt`/`alpaca`: LLaMA-Factory's layouts (`conversations` with
 * from/value, or single-turn instruction/input/output/system); `sharegpt-dpo`/`alpaca-dpo`
 * their preference (`ranking`) forms with `chosen`/`rejected`. `raw`: every column (`meta` as
 * JSON text). Every layout ends with `provenance` (`{campaign, round, generator, added_in, review}`,
 * from `provenanceRelation`: the relation must carry it). `scorers` are the per-scorer names
 * of the exported records only, so no `scores` field is null in every row (JSON readers would
 * type it null).
 */
export const projection = (schema: ExportSchema, scorers: ReadonlyArray<string>): string => {
  const scores = scoresStruct(scorers)
  const withScores = (columns: ReadonlyArray<string>) => (scores === null ? columns : [...columns, scores]).join(", ")
  switch (schema) {
    case "sft":
      return withScores([`${assistant("response")} AS messages`, "score"]) + ", id, prompt_id, round, provenance"
    case "dpo":
      return [
        "messages AS prompt",
        "[{'role': 'assistant', 'content': chosen}] AS chosen",
        "[{'role': 'assistant', 'content': rejected}] AS rejected",
        "coalesce(score_chosen, score) AS score_chosen",
        "score_rejected",
        "prompt_id",
        "id",
        "round",
        "provenance"
      ].join(", ")
    case "sharegpt":
      return [`list_append(${SHAREGPT_TURNS}, {'from': 'gpt', 'value': response}) AS conversations`, `${SYSTEM_TEXT} AS system`, "id", "score", "provenance"].join(", ")
    case "sharegpt-dpo":
      return [
        `${SHAREGPT_TURNS} AS conversations`,
        "{'from': 'gpt', 'value': chosen} AS chosen",
        "{'from': 'gpt', 'value': rejected} AS rejected",
        `${SYSTEM_TEXT} AS system`,
        "id",
        "coalesce(score_chosen, score) AS score_chosen",
        "score_rejected",
        "provenance"
      ].join(", ")
    case "alpaca":
      return [`${LAST_USER} AS instruction`, "'' AS input", "response AS output", `${SYSTEM_TEXT} AS system`, "id", "score", "provenance"].join(", ")
    case "alpaca-dpo":
      return [
        `${LAST_USER} AS instruction`,
        "'' AS input",
        "chosen",
        "rejected",
        `${SYSTEM_TEXT} AS system`,
        "id",
        "coalesce(score_chosen, score) AS score_chosen",
        "score_rejected",
        "provenance"
      ].join(", ")
    case "raw":
      return withScores([
        "id", "kind", "prompt_id", "messages", "response", "chosen", "rejected", "score"
      ]) + ", score_chosen, score_rejected, round, sample_index, reference, CAST(meta AS VARCHAR) AS meta, provenance"
  }
}
