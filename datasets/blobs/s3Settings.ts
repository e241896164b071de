/** How to reach an S3-compatible service: read from the usual AWS environment variables by `storeLocation`. */
export interface S3Settings {
  /** `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; absent means AWS itself. */
  readonly endpoint?: string
  /** `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1. */
  readonly region: string
  /** `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); absent: the SDK's default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
}

interface S3ErrorShape {
  readonly name?: string
  readonly Code?: string
  readonly code?: string
  readonly message?: string
  readonly $metadata?: { readonly httpStatusCode?: number }
}

const shape = (error: unknown): S3ErrorShape => (typeof error === "object" && error !== null ? error as S3ErrorShape : {})
const status = (error: unknown): number | undefined => shape(error).$metadata?.httpStatusCode
const codeOf = (error: unknown): string => shape(error).Code ?? shape(error).name ?? shape(error).code ?? "Error"

/** True for "no such key" answers (404 on GET or HEAD), which mean "absent", not failure. */
export const isNotFound = (error: unknown): boolean =>
  codeOf(error) === "NoSuchKey" || codeOf(error) === "NotFound" || (status(error) === 404 && codeOf(error) !== "NoSuchBucket")

/** True when a conditional write lost: 412 Precondition Failed, or 409 when a concurrent conditional write was in flight. */
export const isPreconditionFailed = (error: unknown): boolean =>
  status(error) === 412 || codeOf(error) === "PreconditionFailed" || codeOf(error) === "ConditionalRequestConflict"

const CREDENTIAL_CODES = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "CredentialsProviderError"])

/**
 * An S3 failure for people: the service's code and message, and which setting to look at
 * (`WINNOW_STORE` for a missing bucket, the AWS credential variables for a refused signature,
 * the endpoint variable when nothing answers).
 */
export const describeS3Error = (error: unknown, settings: S3Settings, location: string): string => {
  const code = codeOf(error)
  const message = shape(error).message ?? String(error)
  const detail = `${code}${status(error) ? ` (HTTP ${status(error)})` : ""}: ${message}`
  if (code === "NoSuchBucket") return `${detail}; WINNOW_STORE=${location} names a bucket that does not exist: create it or fix WINNOW_STORE`
  if (CREDENTIAL_CODES.has(code) || status(error) === 403) {
    return `${detail}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) for ${location}`
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up/.test(`${shape(error).code ?? ""} ${message}`)) {
    return `${detail}; cannot reach ${settings.endpoint ?? "AWS S3"} (set AWS_ENDPOINT_URL to the S3 service's address)`
  }
  return detail
}
