import type { DuckDBConnection } from "@duckdb/node-api"
import { StoreCorrupt } from "../../core/errors.js"
import { readBandSidecar, writeBandSidecar, type SortedKeys } from "./bandIndex.js"
import { streamColumns } from "../duck.js"
import type { StoreLayout } from "../layout.js"
import { keyTable, sortedBands, type BandKeyer } from "./nearDup.js"
import { ANSWER_TEXT_SQL, PROMPT_TEXT_SQL, segmentRelation } from "../segmentFormat.js"
import type { SegmentObject } from "../segments.js"

/**
 * The LSH band keys of an earlier segment under the keyer's parameters: from its `.lsh`
 * sidecar, or computed from the segment's text (and the sidecar written) when it is missing,
 * damaged or was made with other parameters. Holds one segment's keys at a time.
 */
export const segmentBands = async (
  db: DuckDBConnection,
  layout: StoreLayout,
  segment: SegmentObject & { readonly records: number },
  keyer: BandKeyer
): Promise<ReadonlyArray<SortedKeys>> => {
  const { params } = keyer
  const path = layout.lshPath(segment.hash, params.params_key)
  const cached = await readBandSidecar(path, segment.hash, params.params_key)
  if (cached && cached.length === params.bands) return cached
  const table = keyTable(segment.records, params.bands)
  const relation = segmentRelation(layout.objectPath(segment.hash, segment.format), segment.format)
  let slot = 0
  for await (const chunk of streamColumns(db, `SELECT ${PROMPT_TEXT_SQL} AS prompt, ${ANSWER_TEXT_SQL} AS answer FROM ${relation}`)) {
    const [prompts, answers] = chunk.columns as [ReadonlyArray<string>, ReadonlyArray<string>]
    for (let row = 0; row < chunk.rows; row++, slot++) {
      if (slot < segment.records) keyer.recordKeys(prompts[row] ?? "", answers[row] ?? "", table.hi, table.lo, segment.records, slot)
    }
  }
  if (slot !== segment.records) {
    throw new StoreCorrupt({ path: relation, reason: `segment holds ${slot} records, manifest says ${segment.records}` })
  }
  const bands = sortedBands(table, params.bands)
  await writeBandSidecar(path, { segment: segment.hash, params_key: params.params_key }, bands)
  return bands
}
