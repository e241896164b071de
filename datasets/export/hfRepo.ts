import { mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import type { DuckDBConnection } from "@duckdb/node-api"
import { canonicalJson } from "../../core/hash.js"
import { sqlString } from "../duck.js"
import { fsyncDir } from "../fsio.js"
import type { Version } from "../manifest.js"
import { PARQUET_OPTIONS } from "../segments.js"
import { datasetCard } from "./card.js"
import { publicManifest } from "./publicNames.js"
import type { ExportRows } from "./pull.js"
import type { ExportSchema } from "./schemas.js"

/** Everything a dataset-repo folder is made from. */
export interface RepoInput {
  readonly dir: string
  readonly force: boolean
  readonly relation: string
  readonly rows: ExportRows
  readonly schema: ExportSchema
  readonly version: Version
  readonly chain: ReadonlyArray<Version>
  readonly rowsPerShard: number
  /** The card's license identifier (absent: `other`, explained in the card). */
  readonly license?: string | undefined
}

const pad = (n: number): string => String(n).padStart(5, "0")

/** `train-0000N-of-0000M.parquet`, Hugging Face's shard naming. */
export const shardName = (index: number, count: number): string => `train-${pad(index)}-of-${pad(count)}.parquet`

const fsyncFile = async (path: string): Promise<void> => {
  const handle = await open(path, "r+")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes a Hugging Face dataset-repo folder ready to upload: `data/train-0000N-of-0000M.parquet`
 * (zstd, at most `rowsPerShard` rows each), `README.md` (dataset card with YAML front matter),
 * `charts/*.svg`, and `winnow/lineage.json` (the chain's manifests, local paths reduced to their
 * last segment by `publicManifest`): nothing in it names a path of this machine. Built in a
 * hidden sibling folder and renamed into place, so `dir` is either the old content or the
 * complete new one.
 * Returns the paths written.
 */
export const writeDatasetRepo = async (db: DuckDBConnection, input: RepoInput): Promise<Array<string>> => {
  const staging = join(dirname(input.dir), `.${input.dir.split("/").pop()}.partial-${process.pid}`)
  await rm(staging, { recursive: true, force: true })
  await mkdir(join(staging, "data"), { recursive: true })
  try {
    const count = Math.max(1, Math.ceil(input.rows.records / input.rowsPerShard))
    const shards: Array<string> = []
    let shardBytes = 0
    for (let i = 0; i < count; i++) {
      const name = `data/${shardName(i, count)}`
      const path = join(staging, name)
      const select = count === 1 ? input.rows.select : `${input.rows.select} LIMIT ${input.rowsPerShard} OFFSET ${i * input.rowsPerShard}`
      await db.run(`COPY (${select}) TO ${sqlString(path)} (${PARQUET_OPTIONS})`)
      await fsyncFile(path)
      shardBytes += (await stat(path)).size
      shards.push(name)
    }
    const card = await datasetCard(db, {
      relation: input.relation,
      version: input.version,
      chain: input.chain,
      schema: input.schema,
      records: input.rows.records,
      scorers: input.rows.scorers,
      shards,
      shardBytes,
      license: input.license
    })
    const lineage = input.chain.map(publicManifest)
    const files = [...card, { name: "winnow/lineage.json", text: `${JSON.stringify(JSON.parse(canonicalJson(lineage)), null, 2)}\n` }]
    for (const file of files) {
      const path = join(staging, file.name)
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, file.text)
      await fsyncFile(path)
    }
    await replaceFolder(staging, input.dir)
    return [...shards, ...files.map((f) => f.name)].map((name) => join(input.dir, name))
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** Moves `staging` to `dir`; an existing `dir` (checked empty or forced by the caller) is set aside first. */
const replaceFolder = async (staging: string, dir: string): Promise<void> => {
  const aside = `${staging}.old`
  let moved = false
  try {
    await rename(dir, aside)
    moved = true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
  }
  try {
    await rename(staging, dir)
  } catch (error) {
    if (moved) await rename(aside, dir)
    throw error
  }
  if (moved) await rm(aside, { recursive: true, force: true })
  await fsyncDir(dirname(dir))
}
