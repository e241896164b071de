import { sqlIdent, sqlString } from "../duck.js"

/**
 * Export row layouts, each a projection of the internal record (one SQL select over the
 * version's segments). Which records each takes: `sft`, `sharegpt`, `alpaca` the SFT records,
 * `dpo` the preference pairs, `raw` all of them.
 */
export const EXPORT_SCHEMAS = ["sft", "dpo", "raw", "sharegpt", "alpaca"] as const
/** An export row layout (see `EXPORT_SCHEMAS`). */
export type ExportSchema = (typeof EXPORT_SCHEMAS)[number]

/** Output forms: one JSONL file, one zstd Parquet file, or a Hugging Face dataset-repo folder. */
export const EXPORT_FORMATS = ["jsonl", "parquet", "hf"] as const
/** An output form (see `EXPORT_FORMATS`). */
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The record kind a schema exports (`null`: every record). */
export const kindOf = (schema: ExportSchema): "sft" | "dpo" | null =>
  schema === "dpo" ? "dpo" : schema === "raw" ? null : "sft"

const NON_SYSTEM = "list_filter(messages, m -> m.role <> 'system')"
const SYSTEM_TEXT = "coalesce(list_filter(messages, m -> m.role = 'system')[1].content, '')"
const LAST_USER = "coalesce(list_filter(messages, m -> m.role = 'user')[-1].content, '')"
const assistant = (column: string) => `list_append(messages, {'role': 'assistant', 'content': ${column}})`

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
 * conversational forms). `sharegpt`/`alpaca`:
 * LLaMA-Factory's layouts (`conversations` with from/value, or instruction/input/output/
 * system/history). `raw`: every column (`meta` as JSON text).
 */
export const projection = (schema: ExportSchema, scorers: ReadonlyArray<string>): string => {
  const scores = scoresStruct(scorers)
  const withScores = (columns: ReadonlyArray<string>) => (scores === null ? columns : [...columns, scores]).join(", ")
  switch (schema) {
    case "sft":
      return withScores([`${assistant("response")} AS messages`, "score"]) + ", id, prompt_id, round"
    case "dpo":
      return [
        "messages AS prompt",
        "[{'role': 'assistant', 'content': chosen}] AS chosen",
        "[{'role': 'assistant', 'content': rejected}] AS rejected",
        "coalesce(score_chosen, score) AS score_chosen",
        "score_rejected",
        "prompt_id",
        "id",
        "round"
      ].join(", ")
    case "sharegpt":
      return [
        `list_append(list_transform(${NON_SYSTEM}, m -> {'from': CASE WHEN m.role = 'user' THEN 'human' ELSE 'gpt' END, 'value': m.content}), {'from': 'gpt', 'value': response}) AS conversations`,
        `${SYSTEM_TEXT} AS system`,
        "id",
        "score"
      ].join(", ")
    case "alpaca":
      return [
        `${LAST_USER} AS instruction`,
        "'' AS input",
        "response AS output",
        `${SYSTEM_TEXT} AS system`,
        `list_transform(range(0, (len(${NON_SYSTEM}) - 1) // 2), i -> [${NON_SYSTEM}[2 * i + 1].content, ${NON_SYSTEM}[2 * i + 2].content]) AS history`,
        "id",
        "score"
      ].join(", ")
    case "raw":
      return withScores([
        "id", "kind", "prompt_id", "messages", "response", "chosen", "rejected", "score"
      ]) + ", score_chosen, score_rejected, round, sample_index, reference, CAST(meta AS VARCHAR) AS meta"
  }
}

/** The LLaMA-Factory `dataset_info.json` entry describing a file written with `schema`. */
export const llamaFactoryEntry = (schema: "sharegpt" | "alpaca", fileName: string): Record<string, unknown> =>
  schema === "sharegpt"
    ? {
      file_name: fileName,
      formatting: "sharegpt",
      columns: { messages: "conversations", system: "system" },
      tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" }
    }
    : {
      file_name: fileName,
      columns: { prompt: "instruction", query: "input", response: "output", system: "system", history: "history" }
    }
