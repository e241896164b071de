import { join } from "node:path"
import { InputInvalid, inputInvalid } from "../../core/errors.js"
import { readTextIfExists, writeFileAtomic } from "../fsio.js"
import type { LlamaFactorySchema } from "./schemas.js"

const SHAREGPT_TAGS = { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" }

/**
 * The LLaMA-Factory `dataset_info.json` entry describing a file written with `schema` (see
 * LLaMA-Factory's data/README: sharegpt needs `formatting` and its tags; preference data
 * `ranking: true` with `chosen`/`rejected` columns).
 */
export const llamaFactoryEntry = (schema: LlamaFactorySchema, fileName: string): Record<string, unknown> => {
  switch (schema) {
    case "sharegpt":
      return { file_name: fileName, formatting: "sharegpt", columns: { messages: "conversations", system: "system" }, tags: SHAREGPT_TAGS }
    case "sharegpt-dpo":
      return {
        file_name: fileName, formatting: "sharegpt", ranking: true,
        columns: { messages: "conversations", system: "system", chosen: "chosen", rejected: "rejected" }, tags: SHAREGPT_TAGS
      }
    case "alpaca":
      return { file_name: fileName, columns: { prompt: "instruction", query: "input", response: "output", system: "system" } }
    case "alpaca-dpo":
      return { file_name: fileName, ranking: true, columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected", system: "system" } }
  }
}

/** The entry name an export gets without `--name`: the dataset and the schema (`zh-en-sharegpt`). */
export const defaultEntryName = (dataset: string, schema: LlamaFactorySchema): string => `${dataset}-${schema}`

/** An entry checked against the folder's `dataset_info.json`, ready to be written after its data file. */
export interface DatasetInfoPlan {
  readonly path: string
  readonly name: string
  /** Writes the file with this entry added and every other entry kept; returns its path. */
  readonly write: () => Promise<string>
}

/**
 * Reads the `dataset_info.json` of `dir` and plans adding the entry `name` for `fileName`.
 * Refused (`InputInvalid`, before the data file is written): a `dataset_info.json` that is not a
 * JSON object, and an entry of that name that describes another file (another export's), unless
 * `force`. An entry already describing the same file is updated. The file is read again when
 * written, so entries other exports added in between are kept.
 */
export const planDatasetInfo = async (
  source: string,
  dir: string,
  name: string,
  schema: LlamaFactorySchema,
  fileName: string,
  force: boolean
): Promise<DatasetInfoPlan | InputInvalid> => {
  const path = join(dir, "dataset_info.json")
  const read = async (): Promise<Record<string, unknown> | InputInvalid> => {
    const text = await readTextIfExists(path)
    if (text === null) return {}
    const parsed = parseJson(text)
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : inputInvalid(source, "out", path, "a folder whose dataset_info.json is a JSON object (move that file away or export to another folder)")
  }
  const info = await read()
  if (info instanceof InputInvalid) return info
  const existing = info[name] as { file_name?: unknown } | undefined
  if (existing !== undefined && existing?.file_name !== fileName && !force) {
    return inputInvalid(source, "name", name,
      `an entry name not taken in ${path}: "${name}" describes ${JSON.stringify(existing?.file_name ?? null)} (another export); pass --name for a new entry or --force to point it at ${fileName}`)
  }
  return {
    path,
    name,
    write: async () => {
      const current = await read()
      if (current instanceof InputInvalid) throw new Error(current.message)
      current[name] = llamaFactoryEntry(schema, fileName)
      await writeFileAtomic(path, `${JSON.stringify(current, null, 2)}\n`)
      return path
    }
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
