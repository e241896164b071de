import { Schema } from "effect"
import { hash } from "node:crypto"

/** One chat turn of a prompt conversation. */
export const ChatMessage = Schema.Struct({
  role: Schema.Literals(["system", "user", "assistant"]),
  content: Schema.String
})
/** One chat turn of a prompt conversation. */
export type ChatMessage = typeof ChatMessage.Type

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const commonFields = {
  id: Schema.String,
  prompt_id: Schema.String,
  messages: Schema.Array(ChatMessage),
  score: Schema.Finite,
  scores: Schema.Record(Schema.String, Schema.Finite),
  round: NonNegativeInt,
  reference: Schema.optionalKey(Schema.String),
  meta: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
}

/** An SFT record: the prompt conversation (`messages`, without the answer) and the kept `response`. */
export const SftRecord = Schema.Struct({
  ...commonFields,
  kind: Schema.Literal("sft"),
  response: Schema.String,
  sample_index: Schema.optionalKey(NonNegativeInt)
})
/** An SFT record: the prompt conversation (`messages`, without the answer) and the kept `response`. */
export type SftRecord = typeof SftRecord.Type

/** A DPO record: the prompt conversation and a `chosen`/`rejected` response pair with their scores. */
export const DpoRecord = Schema.Struct({
  ...commonFields,
  kind: Schema.Literal("dpo"),
  chosen: Schema.String,
  rejected: Schema.String,
  score_chosen: Schema.optionalKey(Schema.Finite),
  score_rejected: Schema.optionalKey(Schema.Finite)
})
/** A DPO record: the prompt conversation and a `chosen`/`rejected` response pair with their scores. */
export type DpoRecord = typeof DpoRecord.Type

/**
 * The internal record superset, the source of truth for every export: `score` is the
 * combined score, `scores` the per-scorer values. SFT/DPO/other layouts are projections.
 */
export const DatasetRecord = Schema.Union([SftRecord, DpoRecord])
/** The internal record superset (see the schema of the same name). */
export type DatasetRecord = typeof DatasetRecord.Type

/** The fields that make two records "the same sample"; scores, round and lineage are not part of it. */
export type RecordContent =
  | Pick<SftRecord, "kind" | "messages" | "response">
  | Pick<DpoRecord, "kind" | "messages" | "chosen" | "rejected">

/**
 * The content address of a record: sha256 of the canonical JSON of its content fields only
 * (kind, messages, response or chosen+rejected). Exact duplicates collapse to one id.
 */
export const recordId = (content: RecordContent): string => hash("sha256", contentJson(content), "hex")

/**
 * The canonical JSON of a record's content fields, built directly (keys already in sorted
 * order), byte for byte what `canonicalJson` gives for the same object. Hot path of staging.
 */
export const contentJson = (content: RecordContent): string => {
  let messages = ""
  for (const message of content.messages) {
    messages += `${messages === "" ? "" : ","}{"content":${JSON.stringify(message.content)},"role":${JSON.stringify(message.role)}}`
  }
  return content.kind === "sft"
    ? `{"kind":"sft","messages":[${messages}],"response":${JSON.stringify(content.response)}}`
    : `{"chosen":${JSON.stringify(content.chosen)},"kind":"dpo","messages":[${messages}],"rejected":${JSON.stringify(content.rejected)}}`
}

/** A record as a caller builds it, before its id is computed. */
export type RecordDraft = SftDraft | DpoDraft
type SftDraft = Omit<SftRecord, "id">
type DpoDraft = Omit<DpoRecord, "id">

/** Fills in `id` from the content; use when building records in selection code. */
export const makeRecord = <D extends RecordDraft>(draft: D): D & { readonly id: string } =>
  ({ ...draft, id: recordId(draft) })
