import { Context, Effect, Layer, Stream } from "effect"
import {
  inputInvalid, type CommitConflict, type InputInvalid, type NotFound, type StoreCorrupt, type StoreIoFailed
} from "../core/errors.js"
import { commitVersion, defaultCommitOptions, type CommitInput, type CommitOptions, type CommitResult } from "./commit.js"
import { diffVersions, type VersionDiff } from "./diff.js"
import { collectGarbage, type GcOptions, type GcReport } from "./gc.js"
import { pull, type PullOptions, type PullResult } from "./export/pull.js"
import { isStoreError, toStoreIoFailed } from "./fsio.js"
import { storeLayout, type StoreLayout } from "./layout.js"
import { layoutAt, type StoreLocation } from "./location.js"
import type { Manifest, SegmentRef, Version } from "./manifest.js"
import type { DatasetRecord } from "./record.js"
import { readHead, writeTag } from "./refs.js"
import { readSegmentRecords } from "./segments.js"
import { listStaged, stageSegment, type StageInput } from "./staging.js"
import { validateDatasetName, validateTagName } from "./validate.js"
import { verify, type VerifyReport } from "./verify.js"
import { datasetChain, listDatasetNames, parseRef, readVersion, resolveRef } from "./versions.js"

/** One line of `list()`: a dataset and its head version. */
export interface DatasetSummary {
  readonly name: string
  readonly head: string
  readonly sequence: number
  readonly records: number
  readonly updated_at: string
}

type ReadError = StoreIoFailed | StoreCorrupt

/** The versioned dataset store, rooted at one directory (see `layout.ts` for what lives where). */
export interface DatasetStoreApi {
  /** The local store root: the store itself on the filesystem; with S3, the cache of segment objects. */
  readonly root: string
  /** The store as people name it: its folder, or `s3://bucket/prefix` (what `WINNOW_STORE` says). */
  readonly location: string
  /** Stages one shard's records as a Parquet segment (idempotent per campaign, round, shard, output); returns its ref. */
  readonly stageSegment: (input: StageInput) => Effect.Effect<SegmentRef, InputInvalid | StoreIoFailed>
  /** The staged segments of a campaign round (of its output `output`, default 0), sorted by shard. */
  readonly listStaged: (campaignId: string, round: number, output?: number) => Effect.Effect<ReadonlyArray<SegmentRef>, InputInvalid | ReadError>
  /** The records of one staged segment, in id order (the review gate reads a round's staging to rewrite it). */
  readonly readStaged: (segment: SegmentRef) => Stream.Stream<DatasetRecord, ReadError>
  /** Commits staged segments as the next version, deduplicated (idempotent by `lineage.commit_key`). */
  readonly commit: (input: CommitInput) => Effect.Effect<CommitResult, InputInvalid | NotFound | CommitConflict | ReadError>
  /** Resolves `NAME`, `NAME@latest`, `NAME@<seq>`, `NAME@<id prefix>` or `NAME@<tag>` to a version. */
  readonly resolve: (ref: string) => Effect.Effect<Version, InputInvalid | NotFound | ReadError>
  /** One summary per dataset with a committed version, sorted by name. */
  readonly list: () => Effect.Effect<ReadonlyArray<DatasetSummary>, ReadError>
  /** The version chain of a dataset, newest first. */
  readonly log: (name: string) => Effect.Effect<ReadonlyArray<Version>, InputInvalid | NotFound | ReadError>
  /**
   * The records of a version, streamed segment by segment, line by line, in segment order.
   * With `verify`, each segment's hash is checked when its last line has been read. Plain
   * callers can use `Stream.toAsyncIterable` on it.
   */
  readonly readRecords: (manifest: Manifest, options?: { readonly verify?: boolean }) => Stream.Stream<DatasetRecord, ReadError>
  /** Points `tag` of dataset `name` at the version `versionRef` resolves to (creating or moving it). */
  readonly tag: (name: string, tag: string, versionRef: string) => Effect.Effect<Version, InputInvalid | NotFound | ReadError>
  /**
   * Exports a version (a schema of `EXPORT_SCHEMAS`) as JSONL, Parquet or a Hugging Face
   * dataset-repo folder with its card, atomically; refuses corrupt segments and schemas for a
   * kind of record the version does not hold.
   */
  readonly pull: (options: PullOptions) => Effect.Effect<PullResult, InputInvalid | NotFound | ReadError>
  /** Compares two versions: records added and removed, score shift overall and per scorer. */
  readonly diff: (from: string, to: string) => Effect.Effect<VersionDiff, InputInvalid | NotFound | ReadError>
  /** Re-hashes the segments of one version (`NAME@...`) or of every version (`NAME`). */
  readonly verify: (ref: string) => Effect.Effect<VerifyReport, InputInvalid | NotFound | ReadError>
  /** Removes unreferenced segment objects, staging of committed rounds and partial writes (see `collectGarbage`). */
  readonly gc: (options?: GcOptions) => Effect.Effect<GcReport, InputInvalid | ReadError>
}

/**
 * The dataset store as an Effect service. Build it with `DatasetStore.layer(root)` at the
 * composition root, or `DatasetStore.make(root)` where a plain instance is simpler (tests,
 * scripts); `DatasetStore.at(location, home)` for a location read from `WINNOW_STORE`
 * (`location.ts`), on the filesystem or S3. Nothing here reads the environment.
 */
export class DatasetStore extends Context.Service<DatasetStore, DatasetStoreApi>()("winnow/datasets/DatasetStore") {
  /** A store instance over a folder `root` (or a prepared layout); `commit` options tune the HEAD compare-and-swap. */
  static make(root: string | StoreLayout, options: { readonly commit?: CommitOptions } = {}): DatasetStoreApi {
    return makeDatasetStore(typeof root === "string" ? storeLayout(root) : root, options.commit ?? defaultCommitOptions)
  }

  /** A store instance at `location`, with local files (S3's cache, the work area) under `home`. */
  static at(location: StoreLocation, home: string, options: { readonly commit?: CommitOptions } = {}): DatasetStoreApi {
    return DatasetStore.make(layoutAt(location, home), options)
  }

  /** A layer providing the store over `root` (or a prepared layout). */
  static layer(root: string | StoreLayout, options: { readonly commit?: CommitOptions } = {}): Layer.Layer<DatasetStore> {
    return Layer.succeed(DatasetStore, DatasetStore.make(root, options))
  }
}

const makeDatasetStore = (layout: StoreLayout, commitOptions: CommitOptions): DatasetStoreApi => ({
  root: layout.root,
  location: layout.blobs.location,
  stageSegment: (input) => stageSegment(layout, input),
  listStaged: (campaignId, round, output) => listStaged(layout, campaignId, round, output),
  readStaged: (segment) =>
    Stream.fromAsyncIterable(readSegmentRecords(layout, { hash: segment.hash, format: segment.format ?? "jsonl", bytes: segment.bytes }), (cause) =>
      isStoreError(cause) ? cause : toStoreIoFailed(layout.objectsDir, cause)),
  commit: (input) => commitVersion(layout, input, commitOptions),
  resolve: (ref) => resolveRef(layout, "datasets.resolve", ref),
  list: () => listSummaries(layout),
  log: (name) => datasetChain(layout, "datasets.log", name),
  readRecords: (manifest, options = {}) =>
    Stream.fromAsyncIterable(recordsOf(layout, manifest, options.verify ?? false), (cause) =>
      isStoreError(cause) ? cause : toStoreIoFailed(layout.objectsDir, cause)),
  tag: (name, tag, versionRef) => tagVersion(layout, name, tag, versionRef),
  pull: (options) => pull(layout, options),
  diff: (from, to) => diffVersions(layout, from, to),
  verify: (ref) => verify(layout, ref),
  gc: (options) => collectGarbage(layout, options)
})

async function* recordsOf(layout: StoreLayout, manifest: Manifest, verifyHashes: boolean): AsyncGenerator<DatasetRecord> {
  for (const segment of manifest.segments) yield* readSegmentRecords(layout, segment, { verify: verifyHashes })
}

const tagVersion = Effect.fn("datasets.tag")(function*(
  layout: StoreLayout,
  name: string,
  tag: string,
  versionRef: string
): Effect.fn.Return<Version, InputInvalid | NotFound | ReadError> {
  const source = "datasets.tag"
  yield* validateDatasetName(source, "dataset", name)
  const validTag = yield* validateTagName(source, "tag", tag)
  const ref = typeof versionRef === "string" && versionRef.includes("@") ? versionRef : `${name}@${versionRef}`
  if ((yield* parseRef(source, ref)).name !== name) {
    return yield* inputInvalid(source, "versionRef", versionRef, `a version of dataset ${name}`)
  }
  const version = yield* resolveRef(layout, source, ref)
  yield* writeTag(layout, name, validTag, version.id)
  return version
})

const listSummaries = Effect.fn("datasets.list")(function*(layout: StoreLayout) {
  const names = yield* listDatasetNames(layout)
  const summaries = yield* Effect.forEach(names, (name) =>
    Effect.gen(function*() {
      const head = yield* readHead(layout, name)
      if (head === null) return undefined
      const { manifest } = yield* readVersion(layout, name, head)
      return {
        name,
        head,
        sequence: manifest.sequence,
        records: manifest.counts.records,
        updated_at: manifest.created_at
      } satisfies DatasetSummary
    }))
  return summaries.filter((summary): summary is DatasetSummary => summary !== undefined)
})
