import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import type { StoreCorrupt, StoreIoFailed } from "../core/errors.js"
import { storeIo, writeFileAtomic } from "../datasets/fsio.js"
import { storeLayout } from "../datasets/layout.js"

/**
 * The claim-check area: per (campaign, round, shard) work files that activities hand each other
 * by path. Writes are atomic and deterministic, so a retried activity writes the same bytes.
 */
export interface WorkArea {
  readonly promptsPath: (hash: string) => string
  readonly shardFile: (campaignId: string, round: number, shard: number, name: string) => string
  /** The folder holding every shard file of one round. */
  readonly roundDir: (campaignId: string, round: number) => string
}

/** The work area under a store root. */
export const workArea = (root: string): WorkArea => {
  const layout = storeLayout(root)
  return {
    promptsPath: (hash) => join(root, "prompts", `${hash}.jsonl`),
    shardFile: (campaignId, round, shard, name) => join(layout.workRoundDir(campaignId, round), `s${shard}`, `${name}.jsonl`),
    roundDir: layout.workRoundDir
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
