import type { DuckDBConnection } from "@duckdb/node-api"
import type { SortedKeys } from "./bandIndex.js"
import { ContaminationCheck, type EvalSet } from "./decontaminate.js"
import type { NearDupParams } from "./dedupParams.js"
import { streamColumns } from "../duck.js"
import { BandKeyer, Decision, keyTable, resolveNearDuplicates, type KeyTable } from "./nearDup.js"

/** What the pass reads and compares against. */
export interface NearDupPassInput {
  /** SQL yielding `(rk INTEGER, prompt VARCHAR, answer VARCHAR)`, best record first. */
  readonly select: string
  /** How many rows of `select` are not skipped (the size of the key table). */
  readonly slots: number
  /** Rows to pass over (e.g. exact duplicates of the parent), by `rk`. */
  readonly skip: (rk: number) => boolean
  /** Near-duplicate parameters, or `null` for decontamination only. */
  readonly near: NearDupParams | null
  /** Parameters used to hash prompts for decontamination when `near` is null. */
  readonly hashing: NearDupParams
  readonly evalSet: EvalSet | null
  /** Band keys of earlier segments, loaded one at a time. */
  readonly earlier: (keyer: BandKeyer) => ReadonlyArray<() => Promise<ReadonlyArray<SortedKeys>>>
}

/** Decisions per slot (see `Decision`), the `rk` of each slot, and the key table (`null` without near). */
export interface NearDupPassResult {
  readonly decisions: Uint8Array
  readonly rkOf: Int32Array
  readonly keys: KeyTable | null
}

/**
 * Streams candidate records best first, computes their band keys (and checks prompts against
 * the evaluation set), then decides near-duplicates within the batch and against earlier
 * segments. Holds band keys (16 bytes per band per record), never record text.
 */
export const nearDuplicatePass = async (db: DuckDBConnection, input: NearDupPassInput): Promise<NearDupPassResult> => {
  const params = input.near ?? input.hashing
  const keyer = new BandKeyer(params)
  const m = input.slots
  const keys = input.near ? keyTable(m, params.bands) : null
  const rkOf = new Int32Array(m)
  const contaminated = new Uint8Array(m)
  const check = input.evalSet ? new ContaminationCheck(keyer, input.evalSet) : null
  let slot = 0
  for await (const chunk of streamColumns(db, input.select)) {
    const [rks, prompts, answers] = chunk.columns as [ReadonlyArray<number>, ReadonlyArray<string | null>, ReadonlyArray<string | null>]
    for (let row = 0; row < chunk.rows && slot < m; row++) {
      const rk = rks[row]
      if (input.skip(rk)) continue
      rkOf[slot] = rk
      if (keys) keyer.recordKeys(prompts[row] ?? "", answers[row] ?? "", keys.hi, keys.lo, m, slot)
      if (check?.check(prompts[row] ?? "")) contaminated[slot] = 1
      slot += 1
    }
  }
  if (!input.near || !keys) {
    return { decisions: contaminated.map((c) => (c ? Decision.contaminated : Decision.keep)), rkOf, keys: null }
  }
  const decisions = await resolveNearDuplicates({ bands: input.near.bands, keys, contaminated, earlier: input.earlier(keyer) })
  return { decisions, rkOf, keys }
}
