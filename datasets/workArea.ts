import { existsSync } from "node:fs"
import { readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import type { StoreCorrupt, StoreIoFailed } from "../core/errors.js"
import { storeIo, writeFileAtomic } from "./fsio.js"
import { storeLayout } from "./layout.js"

/** A prompt set in the store: its content hash, size, and the page size its files were cut into (0: one file). */
export interface StoredPromptSet {
  readonly ref: string
  readonly count: number
  readonly pageSize: number
}

/** A contiguous slice of a prompt set (a shard's prompts). */
export interface PromptSlice {
  readonly start: number
  readonly end: number
}

/**
 * The claim-check area: prompt pages written once when a campaign is prepared, and per
 * (campaign, round, shard) work files that activities hand each other by path. Writes are atomic
 * and deterministic, so a retried activity writes the same bytes.
 */
export interface WorkArea {
  /** The file holding page `page` of a prompt set (page size 0: the whole set, as campaigns prepared before pages). */
  readonly promptPage: (set: StoredPromptSet, page: number) => string
  /** A shard's work file; `purpose: "eval"` keeps a round's evaluation apart from its samples. */
  readonly shardFile: (campaignId: string, round: number, shard: number, name: string, purpose?: "eval") => string
  /** The folder holding every shard file of one round (or of its evaluation). */
  readonly roundDir: (campaignId: string, round: number, purpose?: "eval") => string
  /** A content-addressed file of a campaign's loop state (the curriculum). */
  readonly stateFile: (campaignId: string, kind: string, hash: string) => string
  /** Scratch space of one improve step (exported data, trainer checkpoints), kept across retries. */
  readonly trainDir: (campaignId: string, round: number) => string
  /** A round's review sample with every text the review page shows (written when the round's review opens). */
  readonly reviewFile: (campaignId: string, round: number) => string
}

/** The work area under a store root. */
export const workArea = (root: string): WorkArea => {
  const layout = storeLayout(root)
  const roundDir = (campaignId: string, round: number, purpose?: "eval") =>
    purpose === "eval" ? join(layout.workDir, campaignId, `eval-${round}`) : layout.workRoundDir(campaignId, round)
  return {
    promptPage: (set, page) =>
      set.pageSize === 0 ? join(layout.promptsDir, `${set.ref}.jsonl`) : join(layout.promptsDir, set.ref, `pages-${set.pageSize}`, `${page}.jsonl`),
    shardFile: (campaignId, round, shard, name, purpose) => join(roundDir(campaignId, round, purpose), `s${shard}`, `${name}.jsonl`),
    roundDir,
    stateFile: (campaignId, kind, hash) => join(layout.workDir, campaignId, "state", `${kind}-${hash}.json`),
    trainDir: (campaignId, round) => join(layout.workDir, campaignId, `train-${round}`),
    reviewFile: (campaignId, round) => join(roundDir(campaignId, round), "review.jsonl")
  }
}

/** Writes rows as JSONL, atomically. */
export const writeRows = (path: string, rows: readonly unknown[]): Effect.Effect<void, StoreIoFailed> =>
  storeIo(path, () => writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "")))

/** Reads a JSONL work file written by `writeRows`. */
export const readRows = <T>(path: string): Effect.Effect<T[], StoreIoFailed | StoreCorrupt> =>
  storeIo(path, async () => {
    const text = await readFile(path, "utf8")
    return text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line) as T)
  })

/** Writes a prompt set as pages of `set.pageSize` rows; each page is written once (same bytes on a retry). */
export const writePromptPages = (work: WorkArea, set: StoredPromptSet, rows: readonly unknown[]): Effect.Effect<void, StoreIoFailed> =>
  Effect.forEach(
    Array.from({ length: Math.ceil(rows.length / set.pageSize) }, (_, page) => page),
    (page) => writeRows(work.promptPage(set, page), rows.slice(page * set.pageSize, (page + 1) * set.pageSize)),
    { discard: true }
  )

/**
 * Reads the prompts of one slice of a set: only the page that holds it (a shard never spans two
 * pages, since shards are planned on page boundaries and only ever shrink).
 */
export const readPromptSlice = <T>(work: WorkArea, set: StoredPromptSet, slice: PromptSlice): Effect.Effect<T[], StoreIoFailed | StoreCorrupt> => {
  const page = set.pageSize === 0 ? 0 : Math.floor(slice.start / set.pageSize)
  const offset = page * set.pageSize
  return readRows<T>(work.promptPage(set, page)).pipe(Effect.map((rows) => rows.slice(slice.start - offset, slice.end - offset)))
}

/** Reads every prompt of a set, page by page (for the activities that plan a round over all of them). */
export const readPromptSet = <T>(work: WorkArea, set: StoredPromptSet): Effect.Effect<T[], StoreIoFailed | StoreCorrupt> =>
  set.pageSize === 0
    ? readRows<T>(work.promptPage(set, 0))
    : Effect.forEach(Array.from({ length: Math.ceil(set.count / set.pageSize) }, (_, page) => page), (page) => readRows<T>(work.promptPage(set, page))).pipe(
        Effect.map((pages) => pages.flat())
      )

/** Reads a JSON state file written by `writeState`. */
export const readState = <T>(path: string): Effect.Effect<T, StoreIoFailed | StoreCorrupt> =>
  storeIo(path, async () => JSON.parse(await readFile(path, "utf8")) as T)

/** Writes a state file atomically (content-addressed by the caller, so a retry writes the same bytes). */
export const writeState = (path: string, text: string): Effect.Effect<void, StoreIoFailed> => storeIo(path, () => writeFileAtomic(path, text))

/** Reads a JSONL work file if it exists (a checkpoint a previous attempt wrote); undefined if not. */
export const readRowsIfAny = <T>(path: string): Effect.Effect<T[] | undefined, StoreIoFailed | StoreCorrupt> =>
  existsSync(path) ? readRows<T>(path) : Effect.succeed(undefined)

/** Deletes work files (checkpoints a finished step no longer needs). */
export const removeFiles = (paths: readonly string[]): Effect.Effect<void, StoreIoFailed> =>
  Effect.forEach(paths, (path) => storeIo(path, () => rm(path, { force: true })), { discard: true })
