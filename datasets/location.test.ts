import { describe, expect, it } from "vitest"
import { storeLocation } from "./location.js"

const home = "/home/u/.winnow"
const issue = (env: NodeJS.ProcessEnv) => {
  try {
    storeLocation(env, home)
  } catch (error) {
    return (error as { issues: Array<{ path: string; value: unknown; expected: string }> }).issues[0]
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

describe("WINNOW_STORE", () => {
  it("defaults to the folder under WINNOW_HOME and takes an absolute folder", () => {
    expect(storeLocation({}, home)).toEqual({ kind: "fs", root: "/home/u/.winnow/store" })
    expect(storeLocation({ WINNOW_STORE: "" }, home)).toEqual({ kind: "fs", root: "/home/u/.winnow/store" })
    expect(storeLocation({ WINNOW_STORE: "/data/store/" }, home)).toEqual({ kind: "fs", root: "/data/store" })
  })

  it("reads s3://bucket/prefix with endpoint, region and credentials from the AWS variables", () => {
    const env = { WINNOW_STORE: "s3://my.bucket-1/team/winnow/", AWS_ENDPOINT_URL: "http://127.0.0.1:8333", AWS_DEFAULT_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" }
    expect(storeLocation(env, home)).toEqual({
      kind: "s3",
      target: { bucket: "my.bucket-1", prefix: "team/winnow" },
      settings: { endpoint: "http://127.0.0.1:8333", region: "eu-west-1", credentials: { accessKeyId: "id", secretAccessKey: "secret" } },
      url: "s3://my.bucket-1/team/winnow"
    })
    expect(storeLocation({ WINNOW_STORE: "s3://bkt" }, home)).toMatchObject({ target: { bucket: "bkt", prefix: "" }, settings: { region: "us-east-1" } })
    expect(storeLocation({ WINNOW_STORE: "s3://bkt", AWS_ENDPOINT_URL: "http://a:1", AWS_ENDPOINT_URL_S3: "https://b:2" }, home)).toMatchObject({ settings: { endpoint: "https://b:2" } })
  })

  it("rejects what is not a store location, naming the variable, its value and the forms it takes", () => {
    for (const value of ["s3:/x", "s3://", "s3://UPPER", "s3://ab", "s3://a..b", "http://bucket", "relative/path", "s3://bkt/a//b", "s3://bkt/../x"]) {
      expect(issue({ WINNOW_STORE: value })).toMatchObject({ path: "WINNOW_STORE", value })
    }
    expect(issue({ WINNOW_STORE: "s3:/x" })!.expected).toContain("s3://BUCKET")
    expect(issue({ WINNOW_STORE: "s3://bkt", AWS_ENDPOINT_URL: "localhost:9000" })).toMatchObject({ path: "AWS_ENDPOINT_URL", value: "localhost:9000" })
    expect(issue({ WINNOW_STORE: "s3://bkt", AWS_ACCESS_KEY_ID: "id" })).toMatchObject({ path: "AWS_SECRET_ACCESS_KEY" })
    expect(issue({ WINNOW_STORE: "s3://bkt", AWS_SECRET_ACCESS_KEY: "s" })).toMatchObject({ path: "AWS_ACCESS_KEY_ID" })
  })
})
