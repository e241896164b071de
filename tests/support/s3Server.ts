import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3"
import { s3Client } from "../../datasets/blobs/s3Blobs.js"
import { inject } from "vitest"
import { storeLocation } from "../../datasets/location.js"
import { DatasetStore, type DatasetStoreApi } from "../../datasets/store.js"

export { ensureSeaweedFs, startS3Server, type S3Server } from "../../worker/s3Server.js"

/** The AWS variables that reach the test run's S3 server (started by the global setup). Test-only helper. */
export const s3Env = (): Record<string, string> => ({
  AWS_ENDPOINT_URL: inject("s3Endpoint"),
  AWS_ACCESS_KEY_ID: inject("s3AccessKeyId"),
  AWS_SECRET_ACCESS_KEY: inject("s3SecretAccessKey"),
  AWS_REGION: "us-east-1"
})

/** A client of the test run's S3 server, for tests that look at or damage objects directly. Test-only helper. */
export const testS3Client = (): S3Client =>
  s3Client({ endpoint: inject("s3Endpoint"), region: "us-east-1", credentials: { accessKeyId: inject("s3AccessKeyId"), secretAccessKey: inject("s3SecretAccessKey") } })

/** Creates a bucket no other test uses and returns its name. Test-only helper. */
export const freshBucket = async (name: string): Promise<string> => {
  const bucket = `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase()
  const client = testS3Client()
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  } finally {
    client.destroy()
  }
  return bucket
}

/** The environment of a winnow process whose store is `s3://<bucket>[/<prefix>]` on the test server. Test-only helper. */
export const s3StoreEnv = (bucket: string, prefix = ""): Record<string, string> => ({
  ...s3Env(),
  WINNOW_STORE: `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}`
})

/** A store over `s3://<bucket>[/<prefix>]` on the test server, its local files under `home`. Test-only helper. */
export const s3Store = (bucket: string, home: string, prefix = ""): DatasetStoreApi =>
  DatasetStore.at(storeLocation(s3StoreEnv(bucket, prefix), home), home)
