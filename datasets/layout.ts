import { join } from "node:path"

/**
 * Where everything lives under a store root. The only module that knows paths; every
 * name passed in here must already be validated (see `validate.ts`).
 *
 * ```
 * <root>/objects/<hh>/<sha256>.jsonl              segments (content-addressed, shared by all datasets)
 * <root>/objects/tmp/                             partial segment writes, renamed into place when done
 * <root>/staging/<campaign>/r<round>/s<shard>.json  pointers to staged segments
 * <root>/datasets/<name>/versions/<id>.json       immutable manifests
 * <root>/datasets/<name>/refs/HEAD                head version id (+ HEAD.lock while it moves)
 * <root>/datasets/<name>/refs/tags/<tag>          tagged version ids
 * ```
 */
export interface StoreLayout {
  readonly root: string
  readonly objectsDir: string
  readonly objectTempDir: string
  readonly datasetsDir: string
  readonly objectPath: (hash: string) => string
  readonly stagingRoundDir: (campaignId: string, round: number) => string
  readonly stagingPointer: (campaignId: string, round: number, shard: number) => string
  readonly datasetDir: (name: string) => string
  readonly versionsDir: (name: string) => string
  readonly versionPath: (name: string, id: string) => string
  readonly headPath: (name: string) => string
  readonly headLockPath: (name: string) => string
  readonly tagsDir: (name: string) => string
  readonly tagPath: (name: string, tag: string) => string
}

/** Builds the path scheme for one store root; cheap, call once per store instance. */
export const storeLayout = (root: string): StoreLayout => {
  const objectsDir = join(root, "objects")
  const datasetsDir = join(root, "datasets")
  const datasetDir = (name: string) => join(datasetsDir, name)
  const stagingRoundDir = (campaignId: string, round: number) => join(root, "staging", campaignId, `r${round}`)
  return {
    root,
    objectsDir,
    objectTempDir: join(objectsDir, "tmp"),
    datasetsDir,
    objectPath: (hash) => join(objectsDir, hash.slice(0, 2), `${hash}.jsonl`),
    stagingRoundDir,
    stagingPointer: (campaignId, round, shard) => join(stagingRoundDir(campaignId, round), `s${shard}.json`),
    datasetDir,
    versionsDir: (name) => join(datasetDir(name), "versions"),
    versionPath: (name, id) => join(datasetDir(name), "versions", `${id}.json`),
    headPath: (name) => join(datasetDir(name), "refs", "HEAD"),
    headLockPath: (name) => join(datasetDir(name), "refs", "HEAD.lock"),
    tagsDir: (name) => join(datasetDir(name), "refs", "tags"),
    tagPath: (name, tag) => join(datasetDir(name), "refs", "tags", tag)
  }
}
