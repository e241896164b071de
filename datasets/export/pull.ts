import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises"
import { basename, dirname, resolve as resolvePath } from "node:path"
import type { DuckDBConnection } from "@duckdb/node-api"
import { Effect } from "effect"
import { InputInvalid, inputInvalid, type NotFound, type StoreCorrupt, type StoreIoFailed } from "../../core/errors.js"
import { queryObjects, sqlString, toNumber, withConnection } from "../duck.js"
import { fsyncDir, isMissing, storeIo, storeIoOrCorrupt, tempPathFor } from "../fsio.js"
import type { StoreLayout } from "../layout.js"
import { checkSegment, ensureLocalSegments, PARQUET_OPTIONS } from "../segments.js"
import { validateDatasetName } from "../validate.js"
import { datasetChainFrom, resolveRef } from "../versions.js"
import { checkKinds, checkLicense, checkSingleTurn } from "./checks.js"
import { writeDatasetRepo } from "./hfRepo.js"
import { defaultEntryName, planDatasetInfo } from "./llamaFactory.js"
import { provenanceRelation, segmentOrigins } from "./provenance.js"
import { EXPORT_FORMATS, EXPORT_SCHEMAS, isLlamaFactory, kindOf, projection, type ExportFormat, type ExportSchema } from "./schemas.js"

/** What to export, in which layout and form, to which path. */
export interface PullOptions {
  readonly ref: string
  readonly format: string
  readonly schema: string
  readonly out: string
  /** Entry name in LLaMA-Factory's `dataset_info.json` (default: `<dataset>-<schema>`). */
  readonly name?: string
  /**
   * Replace what is there: an existing non-empty folder (format `hf`), or a `dataset_info.json`
   * entry of the same name that describes another file.
   */
  readonly force?: boolean
  /** The dataset card's license, a Hugging Face license identifier (format `hf`; default `other`, explained). */
  readonly license?: string
  /** Rows per Parquet shard in a dataset-repo folder (default 500,000). */
  readonly rowsPerShard?: number
}

/** What `pull` wrote: rows written, records of other kinds left out, the files. */
export interface PullResult {
  readonly versionId: string
  readonly records: number
  readonly skipped: number
  readonly path: string
  readonly files: ReadonlyArray<string>
}

const SOURCE = "datasets.pull"

const oneOf = <T extends string>(values: ReadonlyArray<T>, field: string, value: unknown): Effect.Effect<T, InputInvalid> =>
  (values as ReadonlyArray<unknown>).includes(value)
    ? Effect.succeed(value as T)
    : Effect.fail(inputInvalid(SOURCE, field, value, `one of ${values.join(", ")}`))

/**
 * Exports one version. Refused before anything is written: a schema for a kind of record the
 * version does not hold (`InputInvalid` naming its kinds), alpaca for multi-turn conversations,
 * a LLaMA-Factory entry name taken by another file, a bad license, and a corrupt segment
 * (every segment is re-hashed first, `StoreCorrupt`). Files appear only complete (temp, fsync,
 * rename); a dataset-repo folder is built beside its target and renamed into place, and an
 * existing non-empty folder is kept unless `force`.
 */
export const pull = Effect.fn("datasets.pull")(function*(
  layout: StoreLayout,
  options: PullOptions
): Effect.fn.Return<PullResult, InputInvalid | NotFound | StoreIoFailed | StoreCorrupt> {
  const format = yield* oneOf(EXPORT_FORMATS, "format", options.format)
  const schema = yield* oneOf(EXPORT_SCHEMAS, "schema", options.schema)
  if (typeof options.out !== "string" || options.out.length === 0) return yield* inputInvalid(SOURCE, "out", options.out, "a path")
  if (options.name !== undefined) yield* validateDatasetName(SOURCE, "name", options.name)
  const rowsPerShard = options.rowsPerShard ?? 500_000
  if (!Number.isSafeInteger(rowsPerShard) || rowsPerShard < 1) {
    return yield* inputInvalid(SOURCE, "rowsPerShard", options.rowsPerShard, "a positive integer")
  }
  const badLicense = checkLicense(SOURCE, options.license, format)
  if (badLicense) return yield* badLicense
  const version = yield* resolveRef(layout, SOURCE, options.ref)
  const badKind = checkKinds(SOURCE, version, schema)
  if (badKind) return yield* badKind
  const path = resolvePath(options.out)
  const force = options.force === true
  if (format === "hf") yield* checkFolderTarget(path, force)
  const entry = format !== "hf" && isLlamaFactory(schema)
    ? yield* refusing(storeIo(path, () => planDatasetInfo(SOURCE, dirname(path), options.name ?? defaultEntryName(version.manifest.dataset, schema), schema, basename(path), force)))
    : null
  for (const segment of version.manifest.segments) {
    const problem = yield* storeIo(layout.objectsDir, () => checkSegment(layout, segment))
    if (problem) return yield* problem
  }
  const chain = yield* datasetChainFrom(layout, version)
  yield* storeIoOrCorrupt(layout.objectsDir, () => ensureLocalSegments(layout, version.manifest.segments))
  const written = yield* refusing(storeIoOrCorrupt(path, () => withConnection(async (db) => {
    const relation = provenanceRelation(segmentOrigins(layout, chain))
    const multiTurn = await checkSingleTurn(db, relation, schema, SOURCE)
    if (multiTurn) return multiTurn
    const rows = await exportRows(db, relation, schema)
    if (format === "hf") {
      const files = await writeDatasetRepo(db, { dir: path, force, relation, rows, schema, version, chain, rowsPerShard, license: options.license })
      return { ...rows, files }
    }
    await copyAtomic(db, rows.select, format, path)
    return { ...rows, files: entry === null ? [path] : [path, await entry.write()] }
  })))
  return { versionId: version.id, records: written.records, skipped: written.skipped, path, files: written.files }
})

/** Fails with the `InputInvalid` an I/O step returned instead of its value. */
const refusing = <A extends object, E>(effect: Effect.Effect<A | InputInvalid, E>): Effect.Effect<A, E | InputInvalid> =>
  Effect.flatMap(effect, (value) => (value instanceof InputInvalid ? Effect.fail(value) : Effect.succeed(value)))

/** The select for a schema over a relation, with how many rows it yields and leaves out. */
export interface ExportRows {
  readonly select: string
  readonly records: number
  readonly skipped: number
  readonly scorers: ReadonlyArray<string>
}

const exportRows = async (db: DuckDBConnection, relation: string, schema: ExportSchema): Promise<ExportRows> => {
  const kind = kindOf(schema)
  const where = kind === null ? "" : ` WHERE kind = ${sqlString(kind)}`
  const scorerRows = await queryObjects(db, `SELECT DISTINCT unnest(map_keys(scores)) AS name FROM ${relation}${where} ORDER BY name`)
  const scorers = scorerRows.map((row) => row.name as string)
  const [counts] = await queryObjects(db, `SELECT count(*) AS total, count(*) FILTER (WHERE ${kind === null ? "true" : `kind = ${sqlString(kind)}`}) AS kept FROM ${relation}`)
  const records = toNumber(counts.kept)
  return { select: `SELECT ${projection(schema, scorers)} FROM ${relation}${where}`, records, skipped: toNumber(counts.total) - records, scorers }
}

/** Runs `select` into `path` as JSONL or zstd Parquet: temp file beside it, fsync, rename. */
export const copyAtomic = async (db: DuckDBConnection, select: string, format: Exclude<ExportFormat, "hf">, path: string): Promise<void> => {
  await mkdir(dirname(path), { recursive: true })
  const temp = tempPathFor(path)
  try {
    const options = format === "parquet" ? PARQUET_OPTIONS : "FORMAT json"
    await db.run(`COPY (${select}) TO ${sqlString(temp)} (${options})`)
    const handle = await open(temp, "r+")
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } finally {
    await rm(temp, { force: true })
  }
  await fsyncDir(dirname(path))
}

const checkFolderTarget = (path: string, force: boolean) =>
  storeIo(path, async () => {
    try {
      const info = await stat(path)
      if (!info.isDirectory()) return inputInvalid(SOURCE, "out", path, "a folder path (a file is there)")
      if (!force && (await readdir(path)).length > 0) {
        return inputInvalid(SOURCE, "out", path, "a new or empty folder (pass --force to replace it)")
      }
    } catch (error) {
      if (!isMissing(error)) throw error
    }
    return null
  }).pipe(Effect.flatMap((problem) => (problem === null ? Effect.void : Effect.fail(problem))))
