import { isAbsolute, join, resolve } from "node:path"
import { HeadBucketCommand } from "@aws-sdk/client-s3"
import { inputInvalid, type InputInvalid } from "../core/errors.js"
import { fsBlobs } from "./blobs/fsBlobs.js"
import { s3Blobs, s3Client, type S3Target } from "./blobs/s3Blobs.js"
import { describeS3Error, type S3Settings } from "./blobs/s3Settings.js"
import { storeLayout, type StoreLayout } from "./layout.js"

/** Where the dataset store lives: a folder (the default, `<WINNOW_HOME>/store`) or an S3 bucket and prefix. */
export type StoreLocation =
  | { readonly kind: "fs"; readonly root: string }
  | { readonly kind: "s3"; readonly target: S3Target; readonly settings: S3Settings; readonly url: string }

const SOURCE = "environment"
const EXPECTED = "s3://BUCKET or s3://BUCKET/PREFIX (bucket: 3-63 of a-z 0-9 . -), or an absolute folder path"
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const PREFIX_PART = /^[A-Za-z0-9._-]+$/

/**
 * Reads `WINNOW_STORE`: unset or empty → the folder `<home>/store`; `s3://bucket[/prefix]` → that
 * bucket, with endpoint, region and credentials from the usual AWS variables; an absolute path →
 * that folder. Anything else throws `InputInvalid` naming the variable, its value and the forms
 * it takes. Read once at the composition root (CLI, worker).
 */
export const storeLocation = (env: NodeJS.ProcessEnv, home: string): StoreLocation => {
  const value = env.WINNOW_STORE ?? ""
  if (value === "") return { kind: "fs", root: join(home, "store") }
  if (!value.includes("://") && isAbsolute(value) && !value.startsWith("s3:")) return { kind: "fs", root: resolve(value) }
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value)
  if (!match) throw inputInvalid(SOURCE, "WINNOW_STORE", value, EXPECTED)
  const bucket = match[1]!
  const prefix = (match[2] ?? "").replace(/\/+$/, "")
  if (!BUCKET.test(bucket) || bucket.includes("..")) throw inputInvalid(SOURCE, "WINNOW_STORE", value, EXPECTED)
  if (prefix !== "" && !prefix.split("/").every((part) => PREFIX_PART.test(part) && part !== "." && part !== "..")) {
    throw inputInvalid(SOURCE, "WINNOW_STORE", value, "a prefix of /-separated parts of A-Z a-z 0-9 . _ - (no empty parts)")
  }
  return { kind: "s3", target: { bucket, prefix }, settings: s3Settings(env), url: `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}` }
}

const s3Settings = (env: NodeJS.ProcessEnv): S3Settings => {
  const endpointName = env.AWS_ENDPOINT_URL_S3 ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL"
  const endpoint = env[endpointName] || undefined
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw inputInvalid(SOURCE, endpointName, endpoint, "an http:// or https:// URL of the S3 service")
  }
  const id = env.AWS_ACCESS_KEY_ID || undefined
  const secret = env.AWS_SECRET_ACCESS_KEY || undefined
  if ((id === undefined) !== (secret === undefined)) {
    const missing = id === undefined ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
    throw inputInvalid(SOURCE, missing, "", `set together with ${missing === "AWS_ACCESS_KEY_ID" ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"}`)
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } } : {})
  }
}

/** The location's layout: local paths for everything, and the backend the shared ones go through. */
export const layoutAt = (location: StoreLocation, home: string): StoreLayout => {
  if (location.kind === "fs") return storeLayout(location.root, { blobs: fsBlobs(location.root) })
  const cache = join(home, "cache", "s3", location.target.bucket, ...(location.target.prefix === "" ? [] : location.target.prefix.split("/")))
  return storeLayout(cache, { blobs: s3Blobs(location.target, location.settings, cache), localRoot: join(home, "store") })
}

/**
 * Checks that an S3 store answers before anything runs on it (the bucket exists, the credentials
 * are accepted); `InputInvalid` names `WINNOW_STORE` or the credential variables. A folder store
 * needs no check (it is created on first write).
 */
export const checkStoreLocation = async (location: StoreLocation): Promise<InputInvalid | null> => {
  if (location.kind === "fs") return null
  const client = s3Client(location.settings)
  try {
    await client.send(new HeadBucketCommand({ Bucket: location.target.bucket }))
    return null
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    const service = location.settings.endpoint ?? "AWS S3"
    if (status === 404) {
      return inputInvalid(SOURCE, "WINNOW_STORE", location.url, `an existing bucket (${service} has no bucket ${location.target.bucket}: create it or fix WINNOW_STORE)`)
    }
    if (status === 403 || status === 401) {
      return inputInvalid(SOURCE, "AWS_ACCESS_KEY_ID", location.settings.credentials?.accessKeyId ?? "(unset)",
        `credentials that ${service} accepts for ${location.url} (it answered HTTP ${status}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`)
    }
    return inputInvalid(SOURCE, "WINNOW_STORE", location.url, `a reachable S3 store (${describeS3Error(error, location.settings, location.url)})`)
  } finally {
    client.destroy()
  }
}
