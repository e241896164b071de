import { unlink } from "node:fs/promises"
import { Clock, Effect, Schema } from "effect"
import {
  CommitConflict, NotFound, StoreCorrupt,
  type InputInvalid, type StoreIoFailed
} from "../core/errors.js"
import { storeIo, storeIoOrCorrupt, writeFileAtomic } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import {
  Lineage, MANIFEST_FORMAT, manifestText, SegmentRef, versionIdOf,
  type Manifest, type ManifestSegment, type Version
} from "./manifest.js"
import { mergeSorted } from "./merge.js"
import { compareAndSwapHead, defaultLockOptions, readHead, type LockOptions } from "./refs.js"
import { compareStrings, openSegmentWriter, parseRecordLine, readSegmentLines, segmentExists } from "./segments.js"
import { ScoreAccumulator } from "./stats.js"
import { decodeInput, validateDatasetName } from "./validate.js"
import { readChain } from "./versions.js"

/** What the round-end commit activity passes: target dataset, staged segments, lineage. */
export interface CommitInput {
  readonly dataset: string
  readonly segments: ReadonlyArray<SegmentRef>
  readonly lineage: Lineage
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
 * segments plus one new segment with the records not already present (by record id; the best
 * scored copy wins among new duplicates). Idempotent by `lineage.commit_key`. HEAD moves by
 * compare-and-swap: when another commit lands first, the manifest is recomputed on top of it.
 * A commit with no new records still creates a version (`counts.added = 0`).
 */
export const commitVersion = Effect.fn("datasets.commit")(function*(
  layout: StoreLayout,
  input: CommitInput,
  options: CommitOptions = defaultCommitOptions
): Effect.fn.Return<CommitResult, InputInvalid | StoreIoFailed | StoreCorrupt | NotFound | CommitConflict> {
  const name = yield* validateDatasetName(SOURCE, "dataset", input.dataset)
  const segments = uniqueByHash(yield* decodeSegments(input.segments))
  const lineage = yield* decodeLineage(input.lineage)
  for (const segment of segments) {
    if (!(yield* storeIo(layout.objectPath(segment.hash), () => segmentExists(layout, segment.hash)))) {
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
      yield* discard(layout.versionPath(name, lostId))
    }
    const existing = chain.find((version) => version.manifest.lineage.commit_key === lineage.commit_key)
    if (existing) return { ...existing, created: false }
    const parent = chain[0]
    const addition = yield* storeIoOrCorrupt(layout.objectsDir, () =>
      buildAddition(layout, parent?.manifest.segments ?? [], segments))
    const now = yield* Clock.currentTimeMillis
    const manifest = assembleManifest(name, parent, segments, lineage, addition, new Date(now).toISOString())
    const id = versionIdOf(manifest)
    const path = layout.versionPath(name, id)
    yield* storeIo(path, () => writeFileAtomic(path, manifestText(manifest)))
    if (yield* compareAndSwapHead(layout, name, head, id, options.lock)) return { id, manifest, created: true }
    lostId = id
    yield* Effect.sleep(Math.floor(Math.random() * Math.min(1_000, 10 * 2 ** attempt)))
  }
  return yield* new CommitConflict({ dataset: name, attempts: options.maxAttempts })
})

/** Deletes a manifest that lost its race; only called once it is known not to be in the chain. */
const discard = (path: string) => Effect.promise(() => unlink(path).catch(() => undefined))

const uniqueByHash = (segments: ReadonlyArray<SegmentRef>): ReadonlyArray<SegmentRef> =>
  [...new Map(segments.map((segment) => [segment.hash, segment] as const)).values()]

interface Addition {
  readonly segment: { readonly hash: string; readonly bytes: number; readonly records: number } | null
  readonly sft: number
  readonly dpo: number
  readonly duplicatesDropped: number
  readonly scores: ScoreAccumulator | null
}

interface Entry {
  readonly id: string
  readonly score: number
  readonly kind: "sft" | "dpo"
  readonly line: string
}

const byId = (a: Entry, b: Entry) => compareStrings(a.id, b.id)

const betterCopy = (a: Entry, b: Entry): Entry =>
  b.score > a.score || (b.score === a.score && compareStrings(b.line, a.line) < 0) ? b : a

/**
 * Walks the parent's segments and the new segments as two id-sorted streams (both verified
 * against their hashes), writes the new ids into one segment, and collects scores for stats.
 */
const buildAddition = async (
  layout: StoreLayout,
  parentSegments: ReadonlyArray<ManifestSegment>,
  newSegments: ReadonlyArray<SegmentRef>
): Promise<Addition> => {
  if (newSegments.length === 0) return { segment: null, sft: 0, dpo: 0, duplicatesDropped: 0, scores: null }
  const scores = new ScoreAccumulator()
  const kinds = { sft: 0, dpo: 0 }
  let duplicatesDropped = 0
  const parent = mergeSorted(parentSegments.map((s) => readEntries(layout, s.hash)), byId)
  const writer = await openSegmentWriter(layout)
  try {
    let current = await parent.next()
    for await (const group of groupById(mergeSorted(newSegments.map((s) => readEntries(layout, s.hash)), byId))) {
      duplicatesDropped += group.length - 1
      const best = group.reduce(betterCopy)
      while (!current.done && current.value.id < best.id) {
        scores.add(current.value.score)
        current = await parent.next()
      }
      if (!current.done && current.value.id === best.id) {
        duplicatesDropped += 1
        continue
      }
      await writer.write(best.line)
      kinds[best.kind] += 1
      scores.add(best.score)
    }
    for (; !current.done; current = await parent.next()) scores.add(current.value.score)
  } catch (error) {
    await writer.abort()
    await parent.return(undefined)
    throw error
  }
  const added = kinds.sft + kinds.dpo
  if (added === 0) await writer.abort()
  const segment = added === 0 ? null : await writer.finish()
  return { segment, ...kinds, duplicatesDropped, scores }
}

async function* readEntries(layout: StoreLayout, hash: string): AsyncGenerator<Entry> {
  const path = layout.objectPath(hash)
  let lineNumber = 0
  let previous: string | undefined
  for await (const line of readSegmentLines(layout, hash, { verify: true })) {
    lineNumber += 1
    const record = parseRecordLine(line, path, lineNumber)
    if (previous !== undefined && record.id < previous) {
      throw new StoreCorrupt({ path, reason: `line ${lineNumber} is out of id order` })
    }
    previous = record.id
    yield { id: record.id, score: record.score, kind: record.kind, line }
  }
}

async function* groupById(entries: AsyncIterable<Entry>): AsyncGenerator<Array<Entry>> {
  let group: Array<Entry> = []
  for await (const entry of entries) {
    if (group.length > 0 && group[0].id !== entry.id) {
      yield group
      group = []
    }
    group.push(entry)
  }
  if (group.length > 0) yield group
}

const assembleManifest = (
  dataset: string,
  parent: Version | undefined,
  newSegments: ReadonlyArray<SegmentRef>,
  lineage: Lineage,
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
      added: addedCount,
      duplicates_dropped: addition.duplicatesDropped
    },
    score_stats: addition.scores === null ? base?.score_stats ?? null : addition.scores.summary(),
    lineage
  }
}
