import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"

/** sha256 of bytes or a UTF-8 string, hex. Use for every content address in the store. */
export const sha256 = (data: string | Uint8Array): string =>
  createHash("sha256").update(data).digest("hex")

/** sha256 of a file, streamed; use for model weights and segments that may be large. */
export const sha256File = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")))
  })

/**
 * JSON with object keys sorted at every level, so equal values always give equal bytes.
 * Use before hashing configurations and manifests.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = sortKeys(v)
    }
    return out
  }
  return value
}

/** Hash of a configuration object, stable across key order; goes into lineage. */
export const configHash = (config: unknown): string => sha256(canonicalJson(config)).slice(0, 16)
