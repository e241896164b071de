import { join } from "node:path"
import type { Blobs } from "./blobs/blobs.js"
import { fsBlobs } from "./blobs/fsBlobs.js"
import type { SegmentFormat } from "./segmentFormat.js"

/**
 * Where everything lives under a store root. The only module that knows paths; every
 * name passed in here must already be validated (see `validate.ts`).
 *
 * ```
 * <root>/objects/<hh>/<sha256>.parquet            segments: zstd Parquet, content-addressed, shared by all datasets
 * <root>/objects/<hh>/<sha256>.jsonl              segments written by the first cut (read only)
 * <root>/objects/<hh>/<sha256>.ids                sorted record ids of a segment (derived, rebuilt when bad)
 * <root>/objects/<hh>/<sha256>.lsh-<params>       MinHash LSH band keys of a segment (derived, rebuilt when bad)
 * <root>/objects/tmp/                             partial writes, renamed into place when done
 * <root>/staging/<campaign>/r<round>/s<shard>.json  pointers to staged segments (garbage once the round is committed; `gc.ts`)
 * <root>/staging/<campaign>/r<round>-o<k>/…       the same for a campaign's output k ≥ 1 (`outputs[k-1]` of its spec)
 * <root>/work/<campaign>/r<round>/s<shard>/*.jsonl  activities' work files (samples, scores, selections)
 * <root>/prompts/<sha256>/pages-<size>/<page>.jsonl  a campaign's prompt set, cut into shard-sized pages
 * <root>/datasets/<name>/versions/<id>.json       immutable manifests
 * <root>/datasets/<name>/refs/HEAD                head version id (+ HEAD.lock while it moves)
 * <root>/datasets/<name>/refs/tags/<tag>          tagged version ids
 * ```
 *
 * With an S3 store (`location.ts`) the same names are keys under the bucket's prefix: objects,
 * staging and datasets live there (through `blobs`), while `root` is a local cache of segment
 * objects with their sidecars and partial writes, and the work area and prompts stay under
 * `localRoot`.
 */
export interface StoreLayout {
  readonly root: string
  /** The backend the shared part of the store (objects, manifests, refs, staging) goes through. */
  readonly blobs: Blobs
  readonly objectsDir: string
  readonly objectTempDir: string
  readonly datasetsDir: string
  readonly objectPath: (hash: string, format: SegmentFormat) => string
  readonly idsPath: (hash: string) => string
  readonly lshPath: (hash: string, paramsKey: string) => string
  readonly stagingDir: string
  /** Staging of one round of a campaign's output (0, the default: `output`; k ≥ 1: its `outputs[k-1]`). */
  readonly stagingRoundDir: (campaignId: string, round: number, output?: number) => string
  readonly stagingPointer: (campaignId: string, round: number, shard: number, output?: number) => string
  readonly workDir: string
  readonly promptsDir: string
  readonly workRoundDir: (campaignId: string, round: number) => string
  readonly datasetDir: (name: string) => string
  readonly versionsDir: (name: string) => string
  readonly versionPath: (name: string, id: string) => string
  readonly headPath: (name: string) => string
  readonly headLockPath: (name: string) => string
  readonly tagsDir: (name: string) => string
  readonly tagPath: (name: string, tag: string) => string
}

/** What a layout is built over besides its root: the backend (default: the filesystem at the root) and where local-only files go. */
export interface LayoutOptions {
  readonly blobs?: Blobs
  /** Root of the work area and prompts (default: the store root). */
  readonly localRoot?: string
}

/** Builds the path scheme for one store root; cheap, call once per store instance. */
export const storeLayout = (root: string, options: LayoutOptions = {}): StoreLayout => {
  const objectsDir = join(root, "objects")
  const datasetsDir = join(root, "datasets")
  const datasetDir = (name: string) => join(datasetsDir, name)
  const stagingDir = join(root, "staging")
  const localRoot = options.localRoot ?? root
  const workDir = join(localRoot, "work")
  const stagingRoundDir = (campaignId: string, round: number, output = 0) =>
    join(stagingDir, campaignId, output === 0 ? `r${round}` : `r${round}-o${output}`)
  return {
    root,
    blobs: options.blobs ?? fsBlobs(root),
    objectsDir,
    objectTempDir: join(objectsDir, "tmp"),
    datasetsDir,
    objectPath: (hash, format) => join(objectsDir, hash.slice(0, 2), `${hash}.${format}`),
    idsPath: (hash) => join(objectsDir, hash.slice(0, 2), `${hash}.ids`),
    lshPath: (hash, paramsKey) => join(objectsDir, hash.slice(0, 2), `${hash}.lsh-${paramsKey}`),
    stagingDir,
    stagingRoundDir,
    stagingPointer: (campaignId, round, shard, output) => join(stagingRoundDir(campaignId, round, output), `s${shard}.json`),
    workDir,
    promptsDir: join(localRoot, "prompts"),
    workRoundDir: (campaignId, round) => join(workDir, campaignId, `r${round}`),
    datasetDir,
    versionsDir: (name) => join(datasetDir(name), "versions"),
    versionPath: (name, id) => join(datasetDir(name), "versions", `${id}.json`),
    headPath: (name) => join(datasetDir(name), "refs", "HEAD"),
    headLockPath: (name) => join(datasetDir(name), "refs", "HEAD.lock"),
    tagsDir: (name) => join(datasetDir(name), "refs", "tags"),
    tagPath: (name, tag) => join(datasetDir(name), "refs", "tags", tag)
  }
}
