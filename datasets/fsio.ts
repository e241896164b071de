import { randomUUID } from "node:crypto"
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { Effect } from "effect"
import { isWinnowError, StoreIoFailed, type StoreCorrupt } from "../core/errors.js"

/**
 * Runs a promise-returning file operation as an Effect. Plain Node errors become
 * `StoreIoFailed` naming `path`; `StoreCorrupt`/`StoreIoFailed` thrown by store code pass through.
 */
export const storeIo = <A>(path: string, operation: () => Promise<A>): Effect.Effect<A, StoreIoFailed> =>
  Effect.tryPromise({ try: operation, catch: (cause) => toStoreIoFailed(path, cause) })

/** Like `storeIo` for streaming code that may throw `StoreCorrupt` (bad hash, bad line). */
export const storeIoOrCorrupt = <A>(
  path: string,
  operation: () => Promise<A>
): Effect.Effect<A, StoreIoFailed | StoreCorrupt> =>
  Effect.tryPromise({
    try: operation,
    catch: (cause) => (isStoreError(cause) ? cause : toStoreIoFailed(path, cause))
  })

/** True for the two error types store I/O code throws on purpose. */
export const isStoreError = (cause: unknown): cause is StoreIoFailed | StoreCorrupt =>
  isWinnowError(cause) && (cause._tag === "StoreIoFailed" || cause._tag === "StoreCorrupt")

/** Maps anything thrown by `node:fs` to a `StoreIoFailed` with its errno code. */
export const toStoreIoFailed = (path: string, cause: unknown): StoreIoFailed => {
  if (cause instanceof StoreIoFailed) return cause
  const error = cause as NodeJS.ErrnoException
  const reason = error?.code ? `${error.code}: ${error.message}` : String(error?.message ?? cause)
  return new StoreIoFailed({ path, reason })
}

/** True when a Node fs error means "no such file or directory". */
export const isMissing = (cause: unknown): boolean => (cause as NodeJS.ErrnoException)?.code === "ENOENT"

/** A temp file name beside `path`, unique across processes, so a rename into `path` is atomic. */
export const tempPathFor = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`)

/** fsync a directory so a rename inside it survives a crash. */
export const fsyncDir = async (dir: string): Promise<void> => {
  const handle = await open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes a small file crash-safely: temp file in the same directory, fsync, rename, fsync the
 * directory. Readers see the old content or the new, never a torn file. Creates parent dirs.
 */
export const writeFileAtomic = async (path: string, data: string | Uint8Array): Promise<void> => {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = tempPathFor(path)
  const handle = await open(temp, "wx")
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await fsyncDir(dir)
}

/** Reads a UTF-8 file, or `null` when it does not exist. */
export const readTextIfExists = async (path: string): Promise<string | null> => {
  try {
    return await readFile(path, "utf8")
  } catch (error) {
    if (isMissing(error)) return null
    throw error
  }
}

/** Lists a directory's entry names (sorted), or `[]` when it does not exist. Skips temp files. */
export const listDir = async (dir: string): Promise<Array<string>> => {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith(".")).sort()
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
}
