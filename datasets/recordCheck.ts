/**
 * A fast structural check of staged records, equivalent to decoding with the `DatasetRecord`
 * schema and rejecting excess keys. Staging runs it on every record; only when it fails does
 * the (slower) schema decoder run, to name the bad field.
 */

const COMMON = ["id", "kind", "prompt_id", "messages", "score", "scores", "round", "reference", "meta"]
const SFT_KEYS = new Set([...COMMON, "response", "sample_index"])
const DPO_KEYS = new Set([...COMMON, "chosen", "rejected", "score_chosen", "score_rejected"])
const ROLES = new Set(["system", "user", "assistant"])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const isFinite = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value)
const isIndex = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 0
const optional = (value: unknown, check: (v: unknown) => boolean): boolean => value === undefined || check(value)

const isMessage = (value: unknown): boolean => {
  if (!isObject(value)) return false
  let keys = 0
  for (const _ in value) keys++
  return keys === 2 && typeof value.content === "string" && ROLES.has(value.role as string)
}

/** True when `value` is a record the `DatasetRecord` schema accepts (no excess keys). */
export const isWellFormedRecord = (value: unknown): boolean => {
  if (!isObject(value)) return false
  const keys = value.kind === "sft" ? SFT_KEYS : value.kind === "dpo" ? DPO_KEYS : null
  if (keys === null) return false
  for (const key in value) if (!keys.has(key)) return false
  if (typeof value.id !== "string" || typeof value.prompt_id !== "string" || !isFinite(value.score) || !isIndex(value.round)) return false
  if (!Array.isArray(value.messages) || !value.messages.every(isMessage)) return false
  if (!isObject(value.scores)) return false
  for (const key in value.scores) if (!isFinite(value.scores[key])) return false
  if (!optional(value.reference, (v) => typeof v === "string") || !optional(value.meta, isObject)) return false
  return value.kind === "sft"
    ? typeof value.response === "string" && optional(value.sample_index, isIndex)
    : typeof value.chosen === "string" && typeof value.rejected === "string" &&
      optional(value.score_chosen, isFinite) && optional(value.score_rejected, isFinite)
}
