import { readdir, rm, rmdir, stat } from "node:fs/promises"
import { basename, join } from "node:path"
import { Effect } from "effect"
import { StoreCorrupt } from "../core/errors.js"
import { listDir, storeIo } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import type { Manifest } from "./manifest.js"
import { listTags, readHead, readTag } from "./refs.js"
import { listStaged } from "./staging.js"
import { DATASET_NAME, validateCampaignId } from "./validate.js"
import { readChain, readVersion } from "./versions.js"

/** What a garbage collection may remove. */
export interface GcOptions {
  /** Report what would go without removing anything. */
  readonly dryRun?: boolean
  /** Also remove the work files of committed rounds (kept by `output.keep_work`). */
  readonly work?: boolean
  /** Files younger than this are never removed (a stage or commit may be writing them). */
  readonly graceMs?: number
  /** Campaigns that will never commit again (cancelled, failed): their pending staging and work files go too. */
  readonly abandon?: readonly string[]
}

/** What a collection removed (or, dry, would remove). */
export interface GcReport {
  readonly dryRun: boolean
  /** Segment objects no manifest and no pending staging pointer refers to, with their sidecars. */
  readonly objects: { readonly files: number; readonly bytes: number }
  /** Staging folders of rounds already committed. */
  readonly stagingRounds: number
  /** Leftover partial writes. */
  readonly partialWrites: { readonly files: number; readonly bytes: number }
  /** Work folders of committed rounds (with `work`) and of abandoned campaigns. */
  readonly workRounds: number
  /** Pending staging folders of abandoned campaigns. */
  readonly abandonedRounds: number
  /** Manifests no chain from HEAD or a tag reaches (a commit stopped before it moved HEAD), past the grace period. */
  readonly unreachableVersions: number
  /** Campaign folders under `work/` and `staging/` with nothing left in them. */
  readonly emptyFolders: number
}

/** One hour: longer than any single stage or commit write. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000

/**
 * Removes what nothing refers to. Past the grace period only (a stage or commit may be writing
 * them): segment objects (and their `.ids`/`.lsh-*` sidecars) that no reachable or young
 * manifest and no pending staging pointer names, leftover partial writes, and manifests that no
 * chain from HEAD or a tag reaches (a commit stopped after writing its manifest, before moving
 * HEAD). At once: staging folders of rounds a dataset has committed (their segments were merged
 * into the commit's own; each of a campaign's outputs stages and commits apart), with `work` the work files of committed rounds, the pending staging and
 * work of campaigns named in `abandon`, and campaign folders left empty (removed only while
 * empty, so a writer that has just created a round folder keeps it). Any unreadable manifest a
 * chain reaches, or a young one, stops it before it deletes anything.
 */
export const collectGarbage = Effect.fn("datasets.gc")(function*(layout: StoreLayout, options: GcOptions = {}) {
  const dryRun = options.dryRun ?? false
  const abandoned = new Set(yield* Effect.forEach(options.abandon ?? [], (id, i) => validateCampaignId("datasets.gc", `abandon[${i}]`, id)))
  const cutoff = Date.now() - (options.graceMs ?? DEFAULT_GC_GRACE_MS)
  const referenced = new Set<string>()
  const committed = new Set<string>()
  const read = new Set<string>()
  const refer = (manifest: Manifest) => manifest.segments.forEach((segment) => referenced.add(segment.hash))
  const { names, manifests } = yield* allManifestFiles(layout)
  for (const name of names) {
    for (const root of yield* refsOf(layout, name)) {
      if (read.has(`${name}/${root}`)) continue
      for (const version of yield* readChain(layout, name, root)) {
        if (read.has(`${name}/${version.id}`)) break
        committed.add(roundKey(version.manifest.lineage.campaign_id, version.manifest.lineage.round, version.manifest.lineage.output ?? 0))
        refer(version.manifest)
        read.add(`${name}/${version.id}`)
      }
    }
  }
  const unreachable: string[] = []
  for (const [name, id] of manifests) {
    if (read.has(`${name}/${id}`)) continue
    const path = layout.versionPath(name, id)
    if (yield* olderThan(layout, path, cutoff)) unreachable.push(path)
    else refer((yield* readVersion(layout, name, id)).manifest)
  }
  let stagingRounds = 0
  let workRounds = 0
  let abandonedRounds = 0
  const removed = new Set<string>()
  for (const [campaign, round, output] of yield* roundDirs(layout.stagingDir, (dir) => layout.blobs.list(dir))) {
    const done = committed.has(roundKey(campaign, round, output))
    const dir = layout.stagingRoundDir(campaign, round, output)
    if (done || abandoned.has(campaign)) {
      if (done) stagingRounds++
      else abandonedRounds++
      removed.add(dir)
      if (!dryRun) yield* storeIo(dir, () => layout.blobs.remove(dir))
      continue
    }
    const pending = listStaged(layout, campaign, round, output).pipe(Effect.catchTag("InputInvalid", (e) =>
      Effect.fail(new StoreCorrupt({ path: dir, reason: `not a staging folder winnow wrote: ${e.message}` }))))
    for (const segment of yield* pending) {
      referenced.add(segment.hash)
    }
  }
  for (const [campaign, round] of yield* roundDirs(layout.workDir, listDir)) {
    if (!abandoned.has(campaign) && !(options.work && committed.has(roundKey(campaign, round, 0)))) continue
    workRounds++
    removed.add(layout.workRoundDir(campaign, round))
    if (!dryRun) yield* remove(layout.workRoundDir(campaign, round))
  }
  if (!dryRun) for (const path of unreachable) yield* storeIo(path, () => layout.blobs.remove(path))
  const stagingFolders = layout.blobs.kind === "fs" ? yield* emptyCampaignDirs(layout.stagingDir, removed, dryRun) : 0
  const emptyFolders = stagingFolders + (yield* emptyCampaignDirs(layout.workDir, removed, dryRun))
  const unreferenced = (file: string) => {
    const hash = /^([0-9a-f]{64})\./.exec(file)?.[1]
    return hash !== undefined && !referenced.has(hash)
  }
  const local = yield* sweep(layout.objectsDir, unreferenced, cutoff, dryRun)
  const objects = layout.blobs.kind === "fs" ? local : yield* sweepObjects(layout, unreferenced, cutoff, dryRun)
  const partialWrites = yield* sweep(layout.objectTempDir, () => true, cutoff, dryRun, false)
  return { dryRun, objects, stagingRounds, partialWrites, workRounds, abandonedRounds, unreachableVersions: unreachable.length, emptyFolders } satisfies GcReport
})

const roundKey = (campaign: string, round: number, output: number): string => `${campaign}\0${round}\0${output}`

/** Every dataset folder, and every (dataset, version id) with a manifest file, reachable from HEAD or not. */
const allManifestFiles = (layout: StoreLayout) =>
  Effect.gen(function*() {
    const names = (yield* storeIo(layout.datasetsDir, () => layout.blobs.list(layout.datasetsDir))).filter((n) => DATASET_NAME.test(n))
    const manifests: Array<readonly [string, string]> = []
    for (const name of names) {
      const dir = layout.versionsDir(name)
      for (const file of yield* storeIo(dir, () => layout.blobs.list(dir))) {
        const id = /^([0-9a-f]{16})\.json$/.exec(file)?.[1]
        if (id) manifests.push([name, id])
      }
    }
    return { names, manifests }
  })

/** The version ids a dataset's HEAD and tags point at: the roots its reachable chains start from. */
const refsOf = (layout: StoreLayout, name: string) =>
  Effect.gen(function*() {
    const roots = [yield* readHead(layout, name)]
    for (const tag of yield* listTags(layout, name)) roots.push(yield* readTag(layout, name, tag))
    return [...new Set(roots.filter((id): id is string => id !== null))]
  })

/** Whether a file was last written before `cutoff` (a missing one counts as young: someone moved it). */
const olderThan = (layout: StoreLayout, path: string, cutoff: number) =>
  storeIo(path, async () => ((await layout.blobs.stat(path).catch(() => null))?.mtimeMs ?? Number.POSITIVE_INFINITY) <= cutoff)

/**
 * Campaign folders under `root` with nothing in them once the `removed` round folders are gone;
 * removes them (unless dry) with `rmdir`, which refuses a folder someone has just written into.
 */
const emptyCampaignDirs = (root: string, removed: ReadonlySet<string>, dryRun: boolean) =>
  storeIo(root, async () => {
    let count = 0
    for (const campaign of await readdir(root).catch(() => [] as string[])) {
      const dir = join(root, campaign)
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) continue
      const left = (await readdir(dir)).filter((entry) => !removed.has(join(dir, entry)))
      if (left.length > 0) continue
      if (!dryRun && !(await rmdir(dir).then(() => true, () => false))) continue
      count++
    }
    return count
  })

/** (campaign, round, output) of every `<root>/<campaign>/r<round>` (output 0) and `r<round>-o<k>` folder. */
const roundDirs = (root: string, list: (dir: string) => Promise<Array<string>>) =>
  storeIo(root, async () => {
    const found: Array<readonly [string, number, number]> = []
    for (const campaign of await list(root)) {
      for (const entry of await list(join(root, campaign))) {
        const match = /^r(\d+)(?:-o([1-9]\d*))?$/.exec(entry)
        if (match) found.push([campaign, Number(match[1]), Number(match[2] ?? 0)])
      }
    }
    return found
  })

const remove = (path: string) => storeIo(path, () => rm(path, { recursive: true, force: true }))

/**
 * Removes (or counts) the segment objects in the bucket that `doomed` picks and that were
 * written before `cutoff` (S3; the local cached copies go through `sweep`).
 */
const sweepObjects = (layout: StoreLayout, doomed: (file: string) => boolean, cutoff: number, dryRun: boolean) =>
  storeIo(layout.objectsDir, async () => {
    let files = 0
    let bytes = 0
    for (const object of await layout.blobs.listObjects!(layout.objectsDir)) {
      if (!doomed(basename(object.path)) || object.mtimeMs > cutoff) continue
      files++
      bytes += object.size
      if (!dryRun) await layout.blobs.remove(object.path)
    }
    return { files, bytes }
  })

/** Removes (or counts) files under `dir` (in its two-letter folders when `sharded`) that `doomed` picks and are older than `cutoff`. */
const sweep = (dir: string, doomed: (file: string) => boolean, cutoff: number, dryRun: boolean, sharded = true) =>
  storeIo(dir, async () => {
    let files = 0
    let bytes = 0
    const folders = sharded ? (await listDir(dir)).filter((d) => /^[0-9a-f]{2}$/.test(d)).map((d) => join(dir, d)) : [dir]
    for (const folder of folders) {
      for (const file of await readdir(folder).catch(() => [] as string[])) {
        if (!doomed(file)) continue
        const path = join(folder, file)
        const info = await stat(path).catch(() => undefined)
        if (!info?.isFile() || info.mtimeMs > cutoff) continue
        files++
        bytes += info.size
        if (!dryRun) await rm(path, { force: true })
      }
    }
    return { files, bytes }
  })
