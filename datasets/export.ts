import { mkdir, open, rename, unlink } from "node:fs/promises"
import { dirname, resolve as resolvePath } from "node:path"
import { Effect } from "effect"
import { inputInvalid, type InputInvalid, type NotFound, type StoreCorrupt, type StoreIoFailed } from "../core/errors.js"
import { fsyncDir, storeIoOrCorrupt, tempPathFor } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import type { Manifest } from "./manifest.js"
import type { DatasetRecord, DpoRecord, SftRecord } from "./record.js"
import { readSegmentRecords } from "./segments.js"
import { resolveRef } from "./versions.js"

/** File formats `pull` can write. */
export const EXPORT_FORMATS = ["jsonl"] as const
/** Row layouts `pull` can write: TRL SFT conversations or TRL conversational preference pairs. */
export const EXPORT_SCHEMAS = ["sft", "dpo"] as const

/** What to export, in which layout, to which file. */
export interface PullOptions {
  readonly ref: string
  readonly format: string
  readonly schema: string
  readonly out: string
}

/** What `pull` wrote: rows written, records of the other kind left out, the absolute path. */
export interface PullResult {
  readonly versionId: string
  readonly records: number
  readonly skipped: number
  readonly path: string
}

/** A TRL SFT row: prompt messages plus the kept response as the final assistant turn. */
export const sftRow = (record: SftRecord) => ({
  messages: [...record.messages, { role: "assistant" as const, content: record.response }],
  score: record.score,
  scores: record.scores,
  id: record.id,
  prompt_id: record.prompt_id,
  round: record.round
})

/** A TRL conversational preference row (prompt messages, chosen/rejected assistant turns). */
export const dpoRow = (record: DpoRecord) => ({
  prompt: record.messages,
  chosen: [{ role: "assistant" as const, content: record.chosen }],
  rejected: [{ role: "assistant" as const, content: record.rejected }],
  score_chosen: record.score_chosen ?? record.score,
  score_rejected: record.score_rejected,
  id: record.id,
  prompt_id: record.prompt_id,
  round: record.round
})

const SOURCE = "datasets.pull"

/**
 * Exports one version as JSONL rows of the chosen schema. Only records of that kind are
 * written (SFT rows from `sft` records, preference rows from `dpo` records); the rest are
 * counted in `skipped`. Segments are verified while streamed, and the file appears only
 * complete (temp file, fsync, rename), so a failed pull never leaves a half file.
 */
export const pull = Effect.fn("datasets.pull")(function*(
  layout: StoreLayout,
  options: PullOptions
): Effect.fn.Return<PullResult, InputInvalid | NotFound | StoreIoFailed | StoreCorrupt> {
  if (!(EXPORT_FORMATS as ReadonlyArray<string>).includes(options.format)) {
    return yield* inputInvalid(SOURCE, "format", options.format, `one of ${EXPORT_FORMATS.join(", ")}`)
  }
  if (!(EXPORT_SCHEMAS as ReadonlyArray<string>).includes(options.schema)) {
    return yield* inputInvalid(SOURCE, "schema", options.schema, `one of ${EXPORT_SCHEMAS.join(", ")}`)
  }
  if (typeof options.out !== "string" || options.out.length === 0) {
    return yield* inputInvalid(SOURCE, "out", options.out, "a file path")
  }
  const version = yield* resolveRef(layout, SOURCE, options.ref)
  const path = resolvePath(options.out)
  const kind = options.schema as DatasetRecord["kind"]
  const written = yield* storeIoOrCorrupt(path, () => writeRows(layout, version.manifest, kind, path))
  return { versionId: version.id, ...written, path }
})

const writeRows = async (
  layout: StoreLayout,
  manifest: Manifest,
  kind: DatasetRecord["kind"],
  path: string
): Promise<{ records: number; skipped: number }> => {
  await mkdir(dirname(path), { recursive: true })
  const temp = tempPathFor(path)
  const handle = await open(temp, "wx")
  let records = 0
  let skipped = 0
  let pending: Array<string> = []
  try {
    for (const segment of manifest.segments) {
      for await (const record of readSegmentRecords(layout, segment.hash, { verify: true })) {
        if (record.kind !== kind) {
          skipped += 1
          continue
        }
        pending.push(JSON.stringify(record.kind === "sft" ? sftRow(record) : dpoRow(record)))
        records += 1
        if (pending.length >= 1024) {
          await handle.write(`${pending.join("\n")}\n`)
          pending = []
        }
      }
    }
    if (pending.length > 0) await handle.write(`${pending.join("\n")}\n`)
    await handle.sync()
    await handle.close()
    await rename(temp, path)
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await fsyncDir(dirname(path))
  return { records, skipped }
}
