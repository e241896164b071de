import { Effect } from "effect"
import type { InputInvalid, NotFound, StoreCorrupt, StoreIoFailed } from "../core/errors.js"
import { storeIo } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import type { Version } from "./manifest.js"
import { checkSegment, type SegmentObject } from "./segments.js"
import { datasetChain, parseRef, resolveRef } from "./versions.js"

/** Outcome of a verify run: what was checked and every corrupt segment found. */
export interface VerifyReport {
  readonly dataset: string
  readonly versions: ReadonlyArray<string>
  readonly segmentsChecked: number
  readonly corrupt: ReadonlyArray<StoreCorrupt>
  readonly ok: boolean
}

const SOURCE = "datasets.verify"

/**
 * Re-hashes every segment of one version (`NAME@...`) or of all versions of a dataset
 * (`NAME`). Corrupt or missing segments are reported, not thrown, so one run lists them
 * all; manifests are checked on the way (a corrupt manifest fails the run with `StoreCorrupt`).
 */
export const verify = Effect.fn("datasets.verify")(function*(
  layout: StoreLayout,
  ref: string
): Effect.fn.Return<VerifyReport, InputInvalid | NotFound | StoreIoFailed | StoreCorrupt> {
  const { name } = yield* parseRef(SOURCE, ref)
  const versions: ReadonlyArray<Version> = ref.includes("@")
    ? [yield* resolveRef(layout, SOURCE, ref)]
    : yield* datasetChain(layout, SOURCE, name)
  const segments = new Map<string, SegmentObject>()
  for (const version of versions) {
    for (const segment of version.manifest.segments) segments.set(segment.hash, segment)
  }
  const problems = yield* Effect.forEach(
    [...segments.values()],
    (segment) => storeIo(layout.objectPath(segment.hash, segment.format), () => checkSegment(layout, segment, { fresh: true })),
    { concurrency: 2 }
  )
  const corrupt = problems.filter((problem): problem is StoreCorrupt => problem !== undefined)
  return {
    dataset: name,
    versions: versions.map((version) => version.id),
    segmentsChecked: segments.size,
    corrupt,
    ok: corrupt.length === 0
  }
})
