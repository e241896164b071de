import { execFile, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { promisify } from "node:util"
import { ListObjectsV2Command } from "@aws-sdk/client-s3"
import { join } from "node:path"
import { inject } from "vitest"
import { pino } from "pino"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defaultPoolOptions } from "../models/inferencePool.js"
import { storeLocation } from "../datasets/location.js"
import { type RunningWorker, startWorker } from "../worker/temporalWorker.js"
import { lineage, run, sft } from "./support/storeFixtures.js"
import { clusterEnv, lastJson, pulledRecords, repoRoot, runCli, startTestCluster, tempDir, uniqueQueue, until, writeDemoSpec } from "./support/harness.js"
import { freshBucket, s3Env, s3Store, s3StoreEnv, testS3Client } from "./support/s3Server.js"

describe("winnow dataset commands on an S3 store", () => {
  let bucket: string
  let env: Record<string, string>
  const ids: string[] = []

  beforeAll(async () => {
    bucket = await freshBucket("cli")
    const home = tempDir("s3-cli-setup")
    const store = s3Store(bucket, home)
    const rounds = [
      [sft("2+2?", "4", 0.5, 1), sft("你好吗？", "我很好，谢谢你的关心。", 0.6, 1)],
      [sft("3+3?", "6", 0.9, 2), sft("你好吗？", "我很好，谢谢你的关心！", 0.95, 2), sft("4+4?", "8", 0.8, 2)]
    ]
    for (const [i, records] of rounds.entries()) {
      const segment = await run(store.stageSegment({ campaignId: "cli", round: i + 1, shard: 0, records }))
      ids.push((await run(store.commit({ dataset: "cli-ds", segments: [segment], lineage: lineage("cli", i + 1), dedup: { near: {} } }))).id)
    }
    env = { ...s3StoreEnv(bucket), WINNOW_HOME: tempDir("s3-cli") }
  })

  const json = async (args: string[]) => {
    const result = await runCli([...args, "--json"], env)
    expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0)
    return JSON.parse(result.stdout)
  }

  it("list, show, log, diff, tag, pull, verify and gc read and write the bucket", async () => {
    expect(await json(["dataset", "list"])).toEqual([expect.objectContaining({ name: "cli-ds", head: ids[1], sequence: 2, records: 4 })])
    expect(await json(["dataset", "show", "cli-ds"])).toMatchObject({ id: ids[1], counts: { records: 4, staged: 3, added: 2, near_duplicates_dropped: 1 } })
    expect((await json(["dataset", "log", "cli-ds"])).map((v: { id: string }) => v.id)).toEqual([ids[1], ids[0]])
    expect(await json(["dataset", "diff", "cli-ds@1", "@2"])).toMatchObject({ added: 2, removed: 0, common: 2 })
    expect(await json(["dataset", "tag", "cli-ds", "first", "1"])).toEqual({ dataset: "cli-ds", tag: "first", version: ids[0] })
    expect((await json(["dataset", "show", "cli-ds@first"])).id).toBe(ids[0])
    const out = join(env.WINNOW_HOME!, "cli-ds.jsonl")
    expect(await json(["dataset", "pull", "cli-ds", "--out", out])).toMatchObject({ versionId: ids[1], records: 4 })
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(4)
    expect(await json(["dataset", "verify", "cli-ds"])).toMatchObject({ ok: true, segmentsChecked: 2 })
    expect(await json(["dataset", "gc"])).toMatchObject({ dryRun: false, stagingRounds: 2 })
    expect(await json(["dataset", "verify", "cli-ds"])).toMatchObject({ ok: true, segmentsChecked: 2 })
    const report = await runCli(["report", "cli-ds", "--out", join(env.WINNOW_HOME!, "report"), "--json"], env)
    expect(report.code, report.stderr).toBe(0)
    const fsHome = tempDir("s3-cli-fs")
    const local = await runCli(["dataset", "list", "--json"], { WINNOW_HOME: fsHome, WINNOW_STORE: "" })
    expect(JSON.parse(local.stdout)).toEqual([])
  })

  it("rejects a malformed WINNOW_STORE, a missing bucket and bad credentials, naming what to fix", async () => {
    const home = tempDir("s3-cli-bad")
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...s3Env(), WINNOW_STORE: "s3:/x" }, /WINNOW_STORE.*s3:\/x.*s3:\/\/BUCKET/s],
      [{ ...s3Env(), WINNOW_STORE: "s3://No_Such" }, /WINNOW_STORE.*s3:\/\/No_Such/s],
      [{ ...s3StoreEnv(`missing-${process.pid}`) }, /WINNOW_STORE.*s3:\/\/missing-\d+.*an existing bucket/s],
      [{ ...s3StoreEnv(bucket), AWS_SECRET_ACCESS_KEY: "wrong" }, /AWS_ACCESS_KEY_ID.*credentials/s],
      [{ ...s3StoreEnv(bucket), AWS_ENDPOINT_URL: "localhost:9" }, /AWS_ENDPOINT_URL.*localhost:9.*http/s]
    ]
    for (const [bad, message] of cases) {
      const result = await runCli(["dataset", "list"], { ...bad, WINNOW_HOME: home })
      expect(result.code, `${JSON.stringify(bad)}: ${result.stdout}`).toBe(2)
      expect(result.stderr).toMatch(message)
    }
  })
})

describe("a campaign on an S3 store", () => {
  let worker: RunningWorker
  let fsCluster: { worker: RunningWorker; env: Record<string, string> }
  let env: Record<string, string>
  let bucket: string
  let home: string

  beforeAll(async () => {
    bucket = await freshBucket("campaign")
    home = tempDir("s3-campaign")
    const queue = uniqueQueue("s3-campaign")
    const storeEnv = s3StoreEnv(bucket, "runs")
    env = { ...clusterEnv(queue, home), ...storeEnv }
    worker = await startWorker({
      address: inject("temporalAddress"), namespace: "default", taskQueue: queue, home,
      store: storeLocation(storeEnv, home), pool: defaultPoolOptions(), logger: pino({ level: "error" }, pino.destination(2))
    })
    fsCluster = await startTestCluster("fs-campaign")
  })
  afterAll(async () => {
    await worker?.shutdown()
    await fsCluster?.worker.shutdown()
  })

  it("commits the same records as on the filesystem store", async () => {
    const dir = tempDir("s3-campaign-specs")
    const spec = writeDemoSpec(dir, "s3-demo", (s) => { s.output.dataset = "s3-demo"; s.rounds = 1 })
    const onS3 = await runCli(["run", spec, "--json"], env)
    expect(onS3.code, onS3.stderr).toBe(0)
    const onFs = await runCli(["run", spec, "--json"], fsCluster.env)
    expect(onFs.code, onFs.stderr).toBe(0)
    expect(lastJson(onS3.stdout)).toMatchObject({ dataset: "s3-demo", outcome: "ok", kept: lastJson(onFs.stdout).kept })
    const s3Records = await pulledRecords(env, "s3-demo", dir)
    expect(s3Records.length).toBeGreaterThan(0)
    expect(s3Records).toEqual(await pulledRecords(fsCluster.env, "s3-demo", tempDir("s3-campaign-fs")))
    const client = testS3Client()
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "runs/datasets/s3-demo/" }))
    client.destroy()
    expect(listed.Contents?.map((c) => c.Key)).toContain("runs/datasets/s3-demo/refs/HEAD")
    expect(existsSync(join(home, "store", "datasets"))).toBe(false)
  })
})

describe("scripts/s3-server", () => {
  it("refuses a missing --dir, starts SeaweedFS a store can use, and stops it on SIGTERM", async () => {
    const script = join(repoRoot, "scripts/s3-server")
    const missing = await promisify(execFile)(script, [], { env: process.env }).catch((e: { code: number; stderr: string }) => e)
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining("--dir") })
    const dir = tempDir("s3-server-script")
    const child = spawn(script, ["--dir", join(dir, "data"), "--bucket", "script-bucket"], { stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
    let stdout = ""
    child.stdout.on("data", (d) => (stdout += d))
    await until(async () => (stdout.includes("\n") ? true : undefined))
    const started = JSON.parse(stdout.split("\n")[0]!) as { endpoint: string; pid: number; env: Record<string, string> }
    expect(started.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const list = await runCli(["dataset", "list", "--json"], { ...started.env, WINNOW_STORE: "s3://script-bucket", WINNOW_HOME: dir })
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([])
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(() => process.kill(started.pid, 0)).toThrow()
  })
})
