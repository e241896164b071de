import type { Connection } from "@temporalio/client"
import proto from "@temporalio/proto"
import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"

/**
 * Registers winnow's search attributes on a namespace if they are missing. Idempotent; call
 * when a worker or the dev server starts, so `campaign list` can filter on them.
 */
export const ensureSearchAttributes = async (connection: Connection, namespace: string): Promise<void> => {
  const existing = await connection.operatorService.listSearchAttributes({ namespace })
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((name) => !(name in (existing.customAttributes ?? {})))
  if (missing.length === 0) return
  const keyword = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, keyword]))
    })
  } catch (e) {
    if (!/already exists/i.test((e as Error).message)) throw e
  }
}
