import { randomUUID } from "node:crypto"
import { mkdir, open, rename, stat, unlink } from "node:fs/promises"
import { dirname } from "node:path"
import { Effect } from "effect"
import { CommitConflict, StoreCorrupt, type StoreIoFailed } from "../core/errors.js"
import { isMissing, readTextIfExists, storeIo, writeFileAtomic } from "./fsio.js"
import { writeMovingRef } from "./blobs/blobs.js"
import type { StoreLayout } from "./layout.js"

const VERSION_ID = /^[0-9a-f]{16}$/

/** Timing of the HEAD lock: when a lock counts as abandoned, and how long to wait for a live one. */
export interface LockOptions {
  readonly staleAfterMs: number
  readonly waitAtMostMs: number
}

/** Locks are held for milliseconds (re-read HEAD, rename); 30 s old means its holder died. */
export const defaultLockOptions: LockOptions = { staleAfterMs: 30_000, waitAtMostMs: 60_000 }

const refId = (layout: StoreLayout, path: string, text: string | null): Effect.Effect<string | null, StoreCorrupt> => {
  if (text === null) return Effect.succeed(null)
  const id = text.trim()
  return VERSION_ID.test(id)
    ? Effect.succeed(id)
    : Effect.fail(new StoreCorrupt({ path: layout.blobs.where(path), reason: `ref holds ${JSON.stringify(text.slice(0, 40))}, not a version id` }))
}

const readRef = (layout: StoreLayout, path: string): Effect.Effect<string | null, StoreIoFailed | StoreCorrupt> =>
  storeIo(path, () => layout.blobs.readText(path)).pipe(Effect.flatMap((text) => refId(layout, path, text)))

/** The head version id of a dataset, or `null` when the dataset has no committed version. */
export const readHead = (layout: StoreLayout, name: string) => readRef(layout, layout.headPath(name))

/** The version id a tag points at, or `null` when the tag does not exist. */
export const readTag = (layout: StoreLayout, name: string, tag: string) => readRef(layout, layout.tagPath(name, tag))

/** Points a tag at a version (creating or moving it; the last writer wins), crash-safely; on S3 by conditional writes. */
export const writeTag = (layout: StoreLayout, name: string, tag: string, id: string) => {
  const path = layout.tagPath(name, tag)
  return storeIo(path, () => writeMovingRef(layout.blobs, path, `${id}\n`))
}

/** Tag names of a dataset, sorted. */
export const listTags = (layout: StoreLayout, name: string) => {
  const dir = layout.tagsDir(name)
  return storeIo(dir, () => layout.blobs.list(dir))
}

/**
 * Compare-and-swap of a dataset's HEAD: under `refs/HEAD.lock` (O_EXCL), re-reads HEAD and
 * moves it to `next` only if it still equals `expected`. Returns whether the swap happened;
 * on `false` the caller recomputes against the new head. A lock older than `staleAfterMs` is
 * broken; waiting longer than `waitAtMostMs` for a live one fails with `CommitConflict`.
 * A backend with conditional writes (S3) needs no lock: HEAD is read with its tag and written
 * only if the tag still matches (or, for a first commit, only if HEAD does not exist).
 */
export const compareAndSwapHead = Effect.fn("datasets.compareAndSwapHead")(function*(
  layout: StoreLayout,
  name: string,
  expected: string | null,
  next: string,
  options: LockOptions = defaultLockOptions
): Effect.fn.Return<boolean, StoreIoFailed | StoreCorrupt | CommitConflict> {
  const lockPath = layout.headLockPath(name)
  const headPath = layout.headPath(name)
  const conditional = layout.blobs.conditional
  if (conditional) {
    const current = yield* storeIo(headPath, () => conditional.read(headPath))
    if ((yield* refId(layout, headPath, current?.text ?? null)) !== expected) return false
    return yield* storeIo(headPath, () => conditional.swap(headPath, `${next}\n`, current?.tag ?? null))
  }
  return yield* Effect.acquireUseRelease(
    acquireLock(lockPath, name, options),
    (token) => Effect.gen(function*() {
      const current = yield* readHead(layout, name)
      if (current !== expected) return false
      yield* storeIo(headPath, async () => {
        if ((await readTextIfExists(lockPath)) !== token) throw new Error("HEAD lock was taken over while held")
        await writeFileAtomic(headPath, `${next}\n`)
      })
      return true
    }),
    (token) => releaseLock(lockPath, token)
  )
})

const acquireLock = (lockPath: string, dataset: string, options: LockOptions) =>
  Effect.gen(function*() {
    const token = `${process.pid}.${randomUUID()}`
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      const outcome = yield* storeIo(lockPath, () => tryCreateLock(lockPath, token, options.staleAfterMs))
      if (outcome === "acquired") return token
      if (outcome === "broken") continue
      if (Date.now() - started > options.waitAtMostMs) {
        return yield* new CommitConflict({ dataset, attempts: attempt })
      }
      yield* Effect.sleep(Math.min(100, 2 * attempt) + Math.floor(Math.random() * 10))
    }
  })

const tryCreateLock = async (
  lockPath: string,
  token: string,
  staleAfterMs: number
): Promise<"acquired" | "busy" | "broken"> => {
  await mkdir(dirname(lockPath), { recursive: true })
  try {
    const handle = await open(lockPath, "wx")
    try {
      await handle.writeFile(token)
    } finally {
      await handle.close()
    }
    return "acquired"
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  try {
    const info = await stat(lockPath)
    if (Date.now() - info.mtimeMs <= staleAfterMs) return "busy"
    const aside = `${lockPath}.stale.${randomUUID()}`
    await rename(lockPath, aside)
    await unlink(aside)
    return "broken"
  } catch (error) {
    if (isMissing(error)) return "broken"
    throw error
  }
}

const releaseLock = (lockPath: string, token: string) =>
  Effect.promise(async () => {
    try {
      if ((await readTextIfExists(lockPath)) === token) await unlink(lockPath)
    } catch {
      return
    }
  })
