import { Schema } from "effect"
import { CampaignSpec } from "./spec.js"

/**
 * The JSON Schema (draft 2020-12) of campaign specs, generated from the effect Schema that
 * validates them, so editors and winnow agree. Committed as `campaign/spec.schema.json`.
 */
export const specJsonSchema = (): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(CampaignSpec) as unknown as { schema: Record<string, unknown>; definitions?: Record<string, unknown> }
  closeObjects(document.schema)
  for (const definition of Object.values(document.definitions ?? {})) closeObjects(definition)
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://winnow.dev/schemas/campaign-spec.json",
    title: "winnow campaign spec",
    ...document.schema,
    ...(document.definitions && Object.keys(document.definitions).length ? { $defs: document.definitions } : {})
  }
}

/** Marks every object schema with properties as closed, matching the decoder's excess-key check. */
const closeObjects = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(closeObjects)
  if (node === null || typeof node !== "object") return
  const record = node as Record<string, unknown>
  if (record.type === "object" && record.properties) record.additionalProperties = false
  Object.values(record).forEach(closeObjects)
}
