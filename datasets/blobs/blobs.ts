/**
 * Where the store's shared state lives: the local filesystem (`fsBlobs`) or an S3-compatible
 * bucket (`s3Blobs`). Callers address everything by its path under the layout root
 * (`layout.ts`); the filesystem backend uses that path as it is, the S3 backend maps it to
 * `<prefix>/<path relative to the root>` in its bucket.
 *
 * What goes through here: segment objects, manifests, refs (HEAD, tags) and staging pointers.
 * What stays local whichever backend: derived sidecars (`.ids`, `.lsh-*`), partial writes, the
 * work area and prompt sets; with S3, segment objects are also cached locally (content-addressed,
 * so a cached copy never goes stale) for DuckDB to read.
 */
export interface Blobs {
  readonly kind: "fs" | "s3"
  /** The store as people name it: a folder, or `s3://bucket/prefix`. */
  readonly location: string
  /** Where one path lives, for messages: the path itself, or its `s3://` URL. */
  where(path: string): string
  /** A small UTF-8 document, or `null` when it does not exist. */
  readText(path: string): Promise<string | null>
  /** Replaces (or creates) a small document atomically: readers see the old text or the new, never a torn one. */
  writeText(path: string, text: string): Promise<void>
  /** Names directly under a folder (files and sub-folders), sorted; `[]` when there are none. Skips dot names. */
  list(dir: string): Promise<Array<string>>
  /** Size and last-write time of a file, or `null` when it does not exist. */
  stat(path: string): Promise<{ readonly size: number; readonly mtimeMs: number } | null>
  /** Removes a file, or a folder with everything under it; nothing to remove is not an error. */
  remove(path: string): Promise<void>
  /**
   * Conditional writes, where the backend has them (S3: If-None-Match / If-Match). Absent on the
   * filesystem, whose refs move under a lock file instead (`refs.ts`).
   */
  readonly conditional?: ConditionalWrites
  /** True when a segment object exists in the store. */
  objectExists(path: string): Promise<boolean>
  /**
   * Puts a finished local file (fsynced, hashed) at its content address `path`. On the
   * filesystem the file is renamed there, or an existing copy gets a fresh modification time
   * (gc spares young files); with S3 it is uploaded and then kept as the local cached copy.
   * The temp file is gone or moved afterwards.
   */
  placeObject(temp: string, path: string): Promise<void>
  /**
   * A local file holding the object at `path` whose content hash is `hash`, or `null` when the
   * store has no such object. The filesystem returns the object's own path; S3 downloads it into
   * the local cache once (refusing bytes that do not hash to `hash`) and returns the cached copy.
   */
  localObject(path: string, hash: string): Promise<string | null>
  /**
   * Objects under the objects folder with their sizes and write times (S3), for gc; the
   * filesystem backend leaves this out and gc walks its folders itself.
   */
  listObjects?(dir: string): Promise<Array<{ readonly path: string; readonly size: number; readonly mtimeMs: number }>>
  /** Re-reads the stored bytes of an object from the store itself (not a cache) into a local temp file; S3 only. */
  downloadFresh?(path: string, temp: string): Promise<boolean>
}

/** A document with the tag a conditional write must name to replace exactly this content. */
export interface TaggedText {
  readonly text: string
  readonly tag: string
}

/** Compare-and-set on single documents: the primitive that makes two writers never both win. */
export interface ConditionalWrites {
  /** The document and its current tag (S3: ETag), or `null` when it does not exist. */
  read(path: string): Promise<TaggedText | null>
  /**
   * Writes `text` only if the document still has `tag` (`null`: only if it does not exist).
   * Returns `false` when someone else wrote first (HTTP 412 / 409), so the caller re-reads.
   */
  swap(path: string, text: string, tag: string | null): Promise<boolean>
}

/** Conditional writes a moving ref gives up after, when other writers keep replacing it. */
const MAX_REF_SWAPS = 50

/**
 * Writes a ref that moves (a tag, a staging pointer): on a backend with conditional writes, each
 * write names the version it read (`If-Match`, or `If-None-Match: *` to create) and is retried
 * on top of whatever won, so the last writer wins without overwriting a write it never saw; on
 * the filesystem, one atomic rename. Use for every ref but HEAD (see `compareAndSwapHead`).
 */
export const writeMovingRef = async (blobs: Blobs, path: string, text: string): Promise<void> => {
  const conditional = blobs.conditional
  if (!conditional) return blobs.writeText(path, text)
  for (let attempt = 0; attempt < MAX_REF_SWAPS; attempt++) {
    const current = await conditional.read(path)
    if (current?.text === text) return
    if (await conditional.swap(path, text, current?.tag ?? null)) return
  }
  throw new Error(`${path}: still replaced by other writers after ${MAX_REF_SWAPS} conditional writes`)
}
