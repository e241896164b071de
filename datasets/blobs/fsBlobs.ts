import { access, mkdir, rename, rm, stat, utimes } from "node:fs/promises"
import { dirname } from "node:path"
import { fsyncDir, isMissing, listDir, readTextIfExists, writeFileAtomic } from "../fsio.js"
import type { Blobs } from "./blobs.js"

/** True when a file exists. */
export const exists = async (path: string): Promise<boolean> => {
  try {
    await access(path)
    return true
  } catch (error) {
    if (isMissing(error)) return false
    throw error
  }
}

/**
 * The store on the local filesystem, under `root`: paths are files, small documents are
 * written temp + fsync + rename, objects are renamed into place. The default backend.
 */
export const fsBlobs = (root: string): Blobs => ({
  kind: "fs",
  location: root,
  where: (path) => path,
  readText: readTextIfExists,
  writeText: writeFileAtomic,
  list: listDir,
  stat: async (path) => {
    try {
      const info = await stat(path)
      return { size: info.size, mtimeMs: info.mtimeMs }
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  },
  remove: (path) => rm(path, { recursive: true, force: true }),
  objectExists: exists,
  placeObject: async (temp, path) => {
    if (await exists(path)) {
      const now = new Date()
      await utimes(path, now, now)
      return
    }
    await mkdir(dirname(path), { recursive: true })
    await rename(temp, path)
    await fsyncDir(dirname(path))
  },
  localObject: async (path) => ((await exists(path)) ? path : null)
})
