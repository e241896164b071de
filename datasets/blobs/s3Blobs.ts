import { createHash } from "node:crypto"
import { createReadStream, createWriteStream } from "node:fs"
import { mkdir, rename, stat, unlink } from "node:fs/promises"
import { dirname, join, relative, sep } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client
} from "@aws-sdk/client-s3"
import { StoreCorrupt, StoreIoFailed } from "../../core/errors.js"
import { tempPathFor } from "../fsio.js"
import { exists } from "./fsBlobs.js"
import type { Blobs, ConditionalWrites } from "./blobs.js"
import { describeS3Error, isNotFound, isPreconditionFailed, type S3Settings } from "./s3Settings.js"

/** A bucket and the key prefix (no leading or trailing slash; `""` for the bucket's root) the store lives under. */
export interface S3Target {
  readonly bucket: string
  readonly prefix: string
}

/**
 * An S3 client for `settings`: path-style addressing on a custom endpoint, checksums only where
 * S3 requires them. The pinned SDK runs on Node 20 (which winnow supports); its notice that later
 * releases will need Node 22 is turned off so it does not land on every command's stderr.
 */
export const s3Client = (settings: S3Settings): S3Client => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 4
  })
}

/**
 * The store in an S3-compatible bucket. `root` is the local folder the layout's paths start
 * from; it doubles as the cache of downloaded segment objects. Refs move with conditional
 * PUTs (If-None-Match: * to create, If-Match: <etag> to move), so two committers never both win.
 */
export const s3Blobs = (target: S3Target, settings: S3Settings, root: string, client: S3Client = s3Client(settings)): Blobs => {
  const { bucket } = target
  const base = target.prefix === "" ? "" : `${target.prefix}/`
  const location = `s3://${bucket}${target.prefix === "" ? "" : `/${target.prefix}`}`
  const keyOf = (path: string): string => {
    const rel = relative(root, path)
    if (rel.startsWith("..") || rel === "") throw new Error(`${path} is not under the store root ${root}`)
    return base + rel.split(sep).join("/")
  }
  const pathOf = (key: string): string => join(root, ...key.slice(base.length).split("/"))
  const where = (path: string): string => `s3://${bucket}/${keyOf(path)}`
  const io = async <A>(path: string, operation: () => Promise<A>): Promise<A> => {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof StoreCorrupt || error instanceof StoreIoFailed) throw error
      throw new StoreIoFailed({ path: where(path), reason: describeS3Error(error, settings, location) })
    }
  }
  const get = (path: string) =>
    io(path, async () => {
      try {
        return await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(path) }))
      } catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    })
  const readTagged = async (path: string) => {
    const response = await get(path)
    if (response === null) return null
    const text = await io(path, () => response.Body!.transformToString("utf8"))
    return { text, tag: response.ETag ?? "" }
  }
  const head = (path: string) =>
    io(path, async () => {
      try {
        return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(path) }))
      } catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    })
  const listKeys = (path: string, delimiter: boolean) =>
    io(path, async () => {
      const prefix = `${keyOf(path)}/`
      const keys: Array<{ key: string; size: number; mtimeMs: number }> = []
      const folders: Array<string> = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({
          Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(delimiter ? { Delimiter: "/" } : {})
        }))
        for (const item of page.Contents ?? []) {
          keys.push({ key: item.Key!, size: item.Size ?? 0, mtimeMs: item.LastModified?.getTime() ?? 0 })
        }
        for (const folder of page.CommonPrefixes ?? []) folders.push(folder.Prefix!.slice(prefix.length).replace(/\/$/, ""))
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      return { prefix, keys, folders }
    })
  const download = async (path: string, temp: string): Promise<string | null> => {
    const response = await get(path)
    if (response === null) return null
    const hasher = createHash("sha256")
    await io(path, async () => {
      await mkdir(dirname(temp), { recursive: true })
      const body = response.Body as Readable
      body.on("data", (chunk: Buffer) => hasher.update(chunk))
      await pipeline(body, createWriteStream(temp, { flags: "wx" }))
    })
    return hasher.digest("hex")
  }
  const conditional: ConditionalWrites = {
    read: readTagged,
    swap: (path, text, tag) =>
      io(path, async () => {
        try {
          await client.send(new PutObjectCommand({
            Bucket: bucket, Key: keyOf(path), Body: text, ContentType: "text/plain; charset=utf-8",
            ...(tag === null ? { IfNoneMatch: "*" } : { IfMatch: tag })
          }))
          return true
        } catch (error) {
          if (isPreconditionFailed(error)) return false
          throw error
        }
      })
  }
  return {
    kind: "s3",
    location,
    where,
    readText: async (path) => (await readTagged(path))?.text ?? null,
    writeText: (path, text) =>
      io(path, async () => {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(path), Body: text, ContentType: "text/plain; charset=utf-8" }))
      }),
    list: async (dir) => {
      const { prefix, keys, folders } = await listKeys(dir, true)
      const names = [...folders, ...keys.map(({ key }) => key.slice(prefix.length))]
      return [...new Set(names)].filter((name) => name.length > 0 && !name.startsWith(".")).sort()
    },
    stat: async (path) => {
      const info = await head(path)
      return info === null ? null : { size: info.ContentLength ?? 0, mtimeMs: info.LastModified?.getTime() ?? 0 }
    },
    remove: async (path) => {
      const { keys } = await listKeys(path, false)
      for (const key of [keyOf(path), ...keys.map((k) => k.key)]) {
        await io(path, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })))
      }
    },
    conditional,
    objectExists: async (path) => (await head(path)) !== null,
    placeObject: async (temp, path) => {
      const size = (await stat(temp)).size
      await io(path, () => client.send(new PutObjectCommand({
        Bucket: bucket, Key: keyOf(path), Body: createReadStream(temp), ContentLength: size, ContentType: "application/octet-stream"
      })))
      await mkdir(dirname(path), { recursive: true })
      await rename(temp, path)
    },
    localObject: async (path, hash) => {
      if (await exists(path)) return path
      const temp = tempPathFor(path)
      try {
        const actual = await download(path, temp)
        if (actual === null) return null
        if (actual !== hash) throw new StoreCorrupt({ path: where(path), reason: `content hash is ${actual}` })
        await rename(temp, path)
        return path
      } finally {
        await unlink(temp).catch(() => undefined)
      }
    },
    listObjects: async (dir) => (await listKeys(dir, false)).keys.map(({ key, size, mtimeMs }) => ({ path: pathOf(key), size, mtimeMs })),
    downloadFresh: async (path, temp) => (await download(path, temp)) !== null
  }
}
