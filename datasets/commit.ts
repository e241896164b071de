import { Clock, Effect, Schema } from "effect"
import {
  CommitConflict, NotFound, StoreCorrupt,
  type InputInvalid, type StoreIoFailed
} from "../core/errors.js"
import { buildAddition, formatOf, type Addition, type DedupPlan } from "./addition.js"
import { loadEvalSet } from "./dedup/decontaminate.js"
import { decodeDedupOptions, resolveNearParams, type DedupOptions } from "./dedup/dedupParams.js"
import { storeIo, storeIoOrCorrupt } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import {
  Lineage, MANIFEST_FORMAT, manifestText, SegmentRef, versionIdOf,
  type DedupLineage, type Manifest, type ManifestSegment, type Version
} from "./manifest.js"
import { BandKeyer } from "./dedup/nearDup.js"
import { compareAndSwapHead, defaultLockOptions, readHead, type LockOptions } from "./refs.js"
import { decodeInput, validateDatasetName } from "./validate.js"
import { readChain } from "./versions.js"

/**
 * What the round-end commit activity passes: target dataset, staged segments, lineage, and how
 * to deduplicate beyond exact ids (`dedup`; omitted = exact ids only).
 */
export interface CommitInput {
  readonly dataset: string
  readonly segments: ReadonlyArray<SegmentRef>
  readonly lineage: Lineage
  readonly dedup?: DedupOptions
}

/** The committed version; `created: false` when `lineage.commit_key` was already in the chain. */
export interface CommitResult extends Version {
  readonly created: boolean
}

/** How hard a commit fights for HEAD before giving up with `CommitConflict`. */
export interface CommitOptions {
  readonly maxAttempts: number
  readonly lock: LockOptions
}

/** Defaults for `CommitOptions`. */
export const defaultCommitOptions: CommitOptions = { maxAttempts: 16, lock: defaultLockOptions }

const SOURCE = "datasets.commit"
const decodeSegments = decodeInput(Schema.Array(SegmentRef), SOURCE, "segments")
const decodeLineage = decodeInput(Lineage, SOURCE, "lineage")

/**
 * Commits staged segments as the next version of a dataset. The new version holds the parent's
 * segments plus one new Parquet segment with the records not already present (by record id;
 * the best scored copy wins among new duplicates), minus near-duplicates (within the batch and
 * of earlier versions) and contaminated prompts when `dedup` asks. Idempotent by
 * `lineage.commit_key`. HEAD moves by compare-and-swap: when another commit lands first, the
 * manifest is recomputed on top of it. A commit with no new records still creates a version.
 */
export const commitVersion = Effect.fn("datasets.commit")(function*(
  layout: StoreLayout,
  input: CommitInput,
  options: CommitOptions = defaultCommitOptions
): Effect.fn.Return<CommitResult, InputInvalid | StoreIoFailed | StoreCorrupt | NotFound | CommitConflict> {
  const name = yield* validateDatasetName(SOURCE, "dataset", input.dataset)
  const segments = uniqueByHash(yield* decodeSegments(input.segments))
  const lineage = yield* decodeLineage(input.lineage)
  const { plan, record } = yield* dedupPlan(yield* decodeDedupOptions(SOURCE, input.dedup))
  for (const segment of segments) {
    const format = formatOf(segment)
    if (!(yield* storeIo(layout.objectPath(segment.hash, format), () => layout.blobs.objectExists(layout.objectPath(segment.hash, format))))) {
      return yield* new NotFound({
        kind: "segment",
        name: segment.hash,
        hint: `stage campaign ${segment.campaign_id} round ${segment.round} shard ${segment.shard} first`
      })
    }
  }
  let lostId: string | undefined
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const head = yield* readHead(layout, name)
    const chain = yield* readChain(layout, name, head)
    if (lostId !== undefined && !chain.some((version) => version.id === lostId)) {
      yield* discard(layout, layout.versionPath(name, lostId))
    }
    const existing = chain.find((version) => version.manifest.lineage.commit_key === lineage.commit_key)
    if (existing) return { ...existing, created: false }
    const parent = chain[0]
    const addition = yield* storeIoOrCorrupt(layout.objectsDir, () =>
      buildAddition(layout, parent?.manifest.segments ?? [], segments, plan))
    const now = yield* Clock.currentTimeMillis
    const manifest = assembleManifest(name, parent, segments, { ...lineage, dedup: record }, addition, new Date(now).toISOString())
    const id = versionIdOf(manifest)
    const path = layout.versionPath(name, id)
    yield* storeIo(path, () => layout.blobs.writeText(path, manifestText(manifest)))
    if (yield* compareAndSwapHead(layout, name, head, id, options.lock)) return { id, manifest, created: true }
    lostId = id
    yield* Effect.sleep(Math.floor(Math.random() * Math.min(1_000, 10 * 2 ** attempt)))
  }
  return yield* new CommitConflict({ dataset: name, attempts: options.maxAttempts })
})

/** Deletes a manifest that lost its race; only called once it is known not to be in the chain. */
const discard = (layout: StoreLayout, path: string) => Effect.promise(() => layout.blobs.remove(path).catch(() => undefined))

/** Resolves dedup options into the plan the commit runs and the record lineage keeps. */
const dedupPlan = Effect.fn("datasets.dedupPlan")(function*(options: DedupOptions) {
  const near = options.near ? resolveNearParams(options.near) : null
  const hashing = near ?? resolveNearParams({})
  const loaded = options.decontaminate === undefined
    ? null
    : yield* Effect.promise(() => loadEvalSet(options.decontaminate!, new BandKeyer(hashing), SOURCE))
  if (loaded !== null && "_tag" in loaded) return yield* loaded
  const plan: DedupPlan = { near, hashing, evalSet: loaded }
  const record: DedupLineage = {
    exact: "record id = sha256 of content",
    near,
    decontamination: loaded === null ? null : { file: loaded.file, file_hash: loaded.fileHash, prompts: loaded.prompts }
  }
  return { plan, record }
})

const uniqueByHash = (segments: ReadonlyArray<SegmentRef>): ReadonlyArray<SegmentRef> =>
  [...new Map(segments.map((segment) => [segment.hash, segment] as const)).values()]

const assembleManifest = (
  dataset: string,
  parent: Version | undefined,
  newSegments: ReadonlyArray<SegmentRef>,
  lineage: Manifest["lineage"],
  addition: Addition,
  createdAt: string
): Manifest => {
  const base = parent?.manifest
  const added: Array<ManifestSegment> = addition.segment === null ? [] : [{
    ...addition.segment,
    round: lineage.round,
    campaign_id: lineage.campaign_id,
    shard: newSegments.length === 1 ? newSegments[0].shard : null
  }]
  const addedCount = addition.sft + addition.dpo
  return {
    format: MANIFEST_FORMAT,
    dataset,
    sequence: (base?.sequence ?? 0) + 1,
    parent: parent?.id ?? null,
    created_at: createdAt,
    segments: [...(base?.segments ?? []), ...added],
    counts: {
      records: (base?.counts.records ?? 0) + addedCount,
      sft: (base?.counts.sft ?? 0) + addition.sft,
      dpo: (base?.counts.dpo ?? 0) + addition.dpo,
      staged: addition.staged,
      added: addedCount,
      duplicates_dropped: addition.duplicates,
      near_duplicates_dropped: addition.nearDuplicates,
      contaminated_dropped: addition.contaminated
    },
    score_stats: addition.scoreStats,
    lineage
  }
}
