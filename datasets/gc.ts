import { readdir, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { StoreCorrupt } from "../core/errors.js"
import { listDir, storeIo } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import type { Manifest } from "./manifest.js"
import { readHead } from "./refs.js"
import { listStaged } from "./staging.js"
import { DATASET_NAME, validateCampaignId } from "./validate.js"
import { listDatasetNames, readChain, readVersion } from "./versions.js"

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
}

/** One hour: longer than any single stage or commit write. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000

/**
 * Removes what nothing refers to: segment objects (and their `.ids`/`.lsh-*` sidecars) that no
 * manifest of any dataset and no pending staging pointer names, staging folders of rounds a
 * dataset has committed (their segments were merged into the commit's own), leftover partial
 * writes, and with `work` the work files of committed rounds. Pending staging (a round not yet
 * committed) is touched only for campaigns named in `abandon`, and nothing younger than `graceMs`
 * is removed. Any unreadable manifest stops it before it deletes anything.
 */
export const collectGarbage = Effect.fn("datasets.gc")(function*(layout: StoreLayout, options: GcOptions = {}) {
  const dryRun = options.dryRun ?? false
  const abandoned = new Set(yield* Effect.forEach(options.abandon ?? [], (id, i) => validateCampaignId("datasets.gc", `abandon[${i}]`, id)))
  const cutoff = Date.now() - (options.graceMs ?? DEFAULT_GC_GRACE_MS)
  const referenced = new Set<string>()
  const committed = new Set<string>()
  const read = new Set<string>()
  const refer = (manifest: Manifest) => manifest.segments.forEach((segment) => referenced.add(segment.hash))
  for (const name of yield* listDatasetNames(layout)) {
    for (const version of yield* readChain(layout, name, yield* readHead(layout, name))) {
      committed.add(roundKey(version.manifest.lineage.campaign_id, version.manifest.lineage.round))
      refer(version.manifest)
      read.add(`${name}/${version.id}`)
    }
  }
  for (const [name, id] of yield* allManifestFiles(layout)) {
    if (!read.has(`${name}/${id}`)) refer((yield* readVersion(layout, name, id)).manifest)
  }
  let stagingRounds = 0
  let workRounds = 0
  let abandonedRounds = 0
  for (const [campaign, round] of yield* roundDirs(layout.stagingDir)) {
    const done = committed.has(roundKey(campaign, round))
    if (done || abandoned.has(campaign)) {
      if (done) stagingRounds++
      else abandonedRounds++
      if (!dryRun) yield* remove(layout.stagingRoundDir(campaign, round))
      continue
    }
    const pending = listStaged(layout, campaign, round).pipe(Effect.catchTag("InputInvalid", (e) =>
      Effect.fail(new StoreCorrupt({ path: layout.stagingRoundDir(campaign, round), reason: `not a staging folder winnow wrote: ${e.message}` }))))
    for (const segment of yield* pending) {
      referenced.add(segment.hash)
    }
  }
  for (const [campaign, round] of yield* roundDirs(layout.workDir)) {
    if (!abandoned.has(campaign) && !(options.work && committed.has(roundKey(campaign, round)))) continue
    workRounds++
    if (!dryRun) yield* remove(layout.workRoundDir(campaign, round))
  }
  const objects = yield* sweep(layout.objectsDir, (file) => {
    const hash = /^([0-9a-f]{64})\./.exec(file)?.[1]
    return hash !== undefined && !referenced.has(hash)
  }, cutoff, dryRun)
  const partialWrites = yield* sweep(layout.objectTempDir, () => true, cutoff, dryRun, false)
  return { dryRun, objects, stagingRounds, partialWrites, workRounds, abandonedRounds } satisfies GcReport
})

const roundKey = (campaign: string, round: number): string => `${campaign}\0${round}`

/** Every (dataset, version id) with a manifest file, reachable from HEAD or not (a commit that lost a race may leave one). */
const allManifestFiles = (layout: StoreLayout) =>
  Effect.gen(function*() {
    const names = (yield* storeIo(layout.datasetsDir, () => listDir(layout.datasetsDir))).filter((n) => DATASET_NAME.test(n))
    const files: Array<readonly [string, string]> = []
    for (const name of names) {
      const dir = layout.versionsDir(name)
      for (const file of yield* storeIo(dir, () => listDir(dir))) {
        const id = /^([0-9a-f]{16})\.json$/.exec(file)?.[1]
        if (id) files.push([name, id])
      }
    }
    return files
  })

/** (campaign, round) of every `<root>/<campaign>/r<round>` folder. */
const roundDirs = (root: string) =>
  storeIo(root, async () => {
    const found: Array<readonly [string, number]> = []
    for (const campaign of await listDir(root)) {
      for (const entry of await listDir(join(root, campaign))) {
        const round = /^r(\d+)$/.exec(entry)?.[1]
        if (round !== undefined) found.push([campaign, Number(round)])
      }
    }
    return found
  })

const remove = (path: string) => storeIo(path, () => rm(path, { recursive: true, force: true }))

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
