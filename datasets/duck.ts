import { mkdirSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api"

/**
 * The store's query engine: one in-memory DuckDB per process, used over segment files only
 * (it holds no data of its own). Extensions never auto-install or auto-load, so nothing is
 * downloaded at run time; parquet and json are built in. Its file cache is off: a segment
 * found corrupt and then restored must be read from disk again, not from cached blocks. Queries run on DuckDB's own threads,
 * so they do not block the event loop (Temporal heartbeats keep flowing).
 */
let instance: Promise<DuckDBInstance> | undefined

/**
 * Memory DuckDB may hold before it spills to its temp directory: `WINNOW_DUCKDB_MEMORY`
 * (DuckDB syntax, e.g. "4GB"), else 2GB. Sorts and joins over a million records fit; larger
 * ones spill rather than grow.
 */
export const duckMemoryLimit = (): string => process.env.WINNOW_DUCKDB_MEMORY || "2GB"

/** Threads DuckDB may use: `WINNOW_DUCKDB_THREADS`, else every core. */
export const duckThreads = (): number => {
  const fromEnv = Number(process.env.WINNOW_DUCKDB_THREADS)
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, cpus().length)
}

const engine = (): Promise<DuckDBInstance> => {
  if (instance === undefined) {
    const spill = join(tmpdir(), `winnow-duckdb-${process.pid}`)
    mkdirSync(spill, { recursive: true })
    process.once("exit", () => rmSync(spill, { recursive: true, force: true }))
    instance = DuckDBInstance.create(":memory:", {
      threads: String(duckThreads()),
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      preserve_insertion_order: "true",
      memory_limit: duckMemoryLimit(),
      enable_external_file_cache: "false",
      temp_directory: spill
    })
  }
  return instance
}

/** A fresh connection; the caller closes it (`closeSync`). Prefer `withConnection`. */
export const openConnection = async (): Promise<DuckDBConnection> => (await engine()).connect()

/** Runs `use` with a fresh connection (temp tables live and die with it). */
export const withConnection = async <A>(use: (connection: DuckDBConnection) => Promise<A>): Promise<A> => {
  const connection = await openConnection()
  try {
    return await use(connection)
  } finally {
    connection.closeSync()
  }
}

/** A SQL string literal; use for every path or name spliced into SQL. */
export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`

/** A quoted SQL identifier (column or struct field name). */
export const sqlIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * Streams a query's result chunk by chunk as column arrays (strings, numbers, bigints,
 * nested values as DuckDB values). Holds one chunk (2048 rows) at a time.
 */
export async function* streamColumns(
  connection: DuckDBConnection,
  sql: string
): AsyncGenerator<{ readonly rows: number; readonly columns: ReadonlyArray<ReadonlyArray<DuckDBValue>> }> {
  const result = await connection.stream(sql)
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) return
    yield { rows: chunk.rowCount, columns: chunk.getColumns() }
  }
}

/** Runs a query and returns its rows as plain JS objects (for small results: stats, counts). */
export const queryObjects = async (connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> => {
  const reader = await connection.runAndReadAll(sql)
  return reader.getRowObjectsJS() as Array<Record<string, unknown>>
}

/** A number from a DuckDB result value (BIGINT comes back as bigint). */
export const toNumber = (value: unknown): number =>
  typeof value === "bigint" ? Number(value) : typeof value === "number" ? value : Number(value ?? 0)
