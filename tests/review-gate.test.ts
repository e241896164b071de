import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client, Connection, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from "@temporalio/client"
import { WorkflowNotFoundError } from "@temporalio/common"
import { historyToJSON } from "@temporalio/common/lib/proto-utils.js"
import { Worker } from "@temporalio/worker"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { ReviewItem, ReviewItemRef, ReviewVerdict } from "../campaign/review.js"
import { reviewSummaryOf } from "../campaign/review.js"
import type { DecideRequest } from "../campaign/reviewPool.js"
import { startCampaign } from "../cli/campaignClient.js"
import { loadSpecFile } from "../cli/specFile.js"
import { progressQuery } from "../workflows/campaign.js"
import { reviewClaimUpdate, reviewDecideUpdate, reviewQuery } from "../workflows/review.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { clusterEnv, lastJson, repoRoot, runCli, startTestWorker, tempDir, uniqueQueue, until, writeDemoSpec } from "./support/harness.js"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const workflowsPath = fileURLToPath(new URL("../workflows/index.ts", import.meta.url))

/** The refusal an update failed with: its code (the failure type) and message. */
const refusalOf = async (call: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await call
  } catch (error) {
    const cause = (error as { cause?: { type?: string; message?: string } }).cause
    return { code: cause?.type ?? "?", message: cause?.message ?? String(error) }
  }
  throw new Error("the update was applied, a refusal was expected")
}

const pulledRows = async (env: Record<string, string>, ref: string, dir: string): Promise<Array<Record<string, any>>> => {
  const out = join(dir, `${ref.replace(/\W/g, "_")}.jsonl`)
  const pull = await runCli(["dataset", "pull", ref, "--schema", "raw", "--out", out], env)
  expect(pull.code, pull.stderr).toBe(0)
  return readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line))
}

describe("the review gate, driven through its updates", () => {
  let home: string
  let queue: string
  let env: Record<string, string>
  let worker: RunningWorker
  let client: Client
  const dir = tempDir("review-gate")

  beforeAll(async () => {
    home = tempDir("review-home")
    queue = uniqueQueue("review")
    env = clusterEnv(queue, home)
    worker = await startTestWorker(queue, home)
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
  })
  afterAll(async () => {
    await client?.connection.close()
    await worker?.shutdown()
  })

  const start = async (name: string, review: Record<string, unknown>, rounds = 1): Promise<WorkflowHandleWithFirstExecutionRunId> => {
    const spec = writeDemoSpec(dir, name, (s) => { s.rounds = rounds; s.output.dataset = name; s.output.keep_work = true; s.review = review })
    return startCampaign(client, queue, loadSpecFile(spec))
  }
  const openRound = (handle: WorkflowHandle, round: number) =>
    until(async () => {
      const state = await handle.query(reviewQuery).catch(() => undefined)
      return state?.status === "open" && state.round === round ? state : undefined
    }, 120_000)
  const claim = (handle: WorkflowHandle, reviewer: string) => handle.executeUpdate(reviewClaimUpdate, { args: [{ reviewer }] })
  const decide = (handle: WorkflowHandle, request: DecideRequest) => handle.executeUpdate(reviewDecideUpdate, { args: [request] })

  it("waits for reviewers, never hands two of them one record, applies each decision once, refuses what is not pending, and commits exactly what they kept", async () => {
    const handle = await start("reviewed", { sample: 4, include_rejected: 2, lease_seconds: 6 }, 2)
    const opened = await openRound(handle, 1)
    expect(opened).toMatchObject({ sampled: 6, kept_sampled: 4, required: 6, decided: 0 })
    const status = lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], env)).stdout)
    expect(status).toMatchObject({ status: "RUNNING", versions: [], review: { status: "open", round: 1, sampled: 6 } })
    const human = await runCli(["campaign", "status", handle.workflowId], env)
    expect(human.stdout).toContain("round 1 waits for reviewers: 0 of 6 decisions needed")

    const alice = await claim(handle, "alice")
    const bob = await claim(handle, "bob")
    expect(alice.item).not.toBeNull()
    expect(bob.item!.id).not.toBe(alice.item!.id)
    expect((await claim(handle, "alice")).item!.id).toBe(alice.item!.id)
    expect(await refusalOf(decide(handle, { decision_id: "x1", round: 1, item: alice.item!.id, reviewer: "bob", action: "accept" })))
      .toMatchObject({ code: "REVIEW_CLAIMED", message: expect.stringContaining("being reviewed by alice") })
    expect(await refusalOf(decide(handle, { decision_id: "x2", round: 1, item: "no-such-record", reviewer: "alice", action: "accept" })))
      .toEqual({ code: "REVIEW_NOT_IN_SAMPLE", message: "record no-such-record is not in round 1's review sample" })

    const verdicts = new Map<string, { verdict: ReviewVerdict; reviewer: string }>()
    const applied: string[] = []
    const first: DecideRequest = { decision_id: "alice-1", round: 1, item: alice.item!.id, reviewer: "alice", action: alice.item!.kept ? "accept" : "reject" }
    expect(await decide(handle, first)).toMatchObject({ repeated: false, state: { decided: 1 } })
    expect(await decide(handle, first)).toMatchObject({ repeated: true, state: { decided: 1 } })
    verdicts.set(first.item, { verdict: first.action as ReviewVerdict, reviewer: "alice" })
    applied.push(first.decision_id)
    expect(await refusalOf(decide(handle, { ...first, decision_id: "alice-2", action: "reject" })))
      .toMatchObject({ code: "REVIEW_NOT_PENDING", message: expect.stringContaining(`alice already decided "${first.action}"`) })

    await sleep(6500)
    const carol = await claim(handle, "carol")
    expect(carol.item!.id, "bob's lease ran out: his record went back to the pool").toBe(bob.item!.id)
    expect(await refusalOf(decide(handle, { decision_id: "bob-late", round: 1, item: bob.item!.id, reviewer: "bob", action: "accept" })))
      .toMatchObject({ code: "REVIEW_CLAIMED", message: expect.stringContaining("being reviewed by carol") })

    const skip = await decide(handle, { decision_id: "carol-skip", round: 1, item: carol.item!.id, reviewer: "carol", action: "skip" })
    expect(skip.state.decided).toBe(1)
    applied.push("carol-skip")
    const edited = "人工修改的回答：三个苹果。Three apples."
    let keptSeen = 0
    let notKeptSeen = 0
    for (let n = 0; ; n++) {
      const next = await claim(handle, "carol")
      if (next.item === null) break
      const { id, kept } = next.item
      let verdict: ReviewVerdict
      if (kept) verdict = (["reject", "edit", "accept"] as const)[Math.min(keptSeen++, 2)]!
      else {
        expect(await refusalOf(decide(handle, { decision_id: `carol-edit-${n}`, round: 1, item: id, reviewer: "carol", action: "edit", text: "x" })))
          .toMatchObject({ code: "REVIEW_BAD_REQUEST", message: expect.stringContaining("not kept by the discriminator") })
        verdict = notKeptSeen++ === 0 ? "accept" : "reject"
      }
      const answer = await decide(handle, { decision_id: `carol-${n}`, round: 1, item: id, reviewer: "carol", action: verdict, ...(verdict === "edit" ? { text: edited } : {}) })
      verdicts.set(id, { verdict, reviewer: "carol" })
      applied.push(`carol-${n}`)
      if (answer.state.decided === 6) break
    }
    expect(verdicts.size).toBe(6)
    expect([...verdicts.values()].map((v) => v.verdict)).toEqual(expect.arrayContaining(["reject", "edit"]))

    await openRound(handle, 2)
    expect(await refusalOf(decide(handle, { decision_id: "late", round: 1, item: alice.item!.id, reviewer: "alice", action: "accept" })))
      .toMatchObject({ code: "REVIEW_STALE", message: expect.stringContaining("round 1 was already committed") })
    for (let n = 0; ; n++) {
      const next = await claim(handle, "dave")
      if (next.item === null) break
      if ((await decide(handle, { decision_id: `dave-${n}`, round: 2, item: next.item.id, reviewer: "dave", action: "accept" })).state.decided === 6) break
    }
    const result = await handle.result()

    const sample = readFileSync(join(home, "store", "work", handle.workflowId, "r1", "review.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as ReviewItem)
    const refs: ReviewItemRef[] = sample.map((i) => ({ id: i.id, kept: i.kept }))
    const expected = reviewSummaryOf(refs, [...verdicts].map(([item, v]) => ({ decision_id: "", item, reviewer: v.reviewer, verdict: v.verdict, at: "" })), "reached")
    expect(result.reviews).toHaveLength(2)
    expect(result.reviews![0]).toEqual({ round: 1, ...expected })
    expect(result.reviews![1]).toMatchObject({ round: 2, decided: 6, accepted: 6, reviewers: ["dave"] })

    const rows = await pulledRows(env, "reviewed@1", dir)
    const ids = new Set(rows.map((r) => r.id))
    const statsRound1 = lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], env)).stdout).stats[0]
    const keptRejected = sample.filter((i) => i.kept && verdicts.get(i.id)?.verdict === "reject")
    expect(rows).toHaveLength(statsRound1.accepted - keptRejected.length)
    for (const item of sample) {
      const v = verdicts.get(item.id)!
      if (!item.kept) {
        expect(ids.has(item.id)).toBe(false)
        expect(rows.some((r) => r.response === item.response), "a sample the discriminator did not keep never enters the dataset").toBe(false)
      } else if (v.verdict === "reject") {
        expect(ids.has(item.id), "a rejected record is left out of the commit").toBe(false)
      } else if (v.verdict === "edit") {
        expect(ids.has(item.id)).toBe(false)
        const row = rows.find((r) => r.response === edited)!
        expect(row.provenance.review).toEqual({ decision: "edit", reviewer: "carol", at: expect.any(String), edited: true })
        expect(JSON.parse(row.meta).review).toMatchObject({ original_id: item.id, original_response: item.response, decision: "edit" })
      } else {
        expect(rows.find((r) => r.id === item.id)!.provenance.review).toMatchObject({ decision: "accept", reviewer: v.reviewer, edited: false })
      }
    }
    expect(rows.filter((r) => r.provenance.review.decision !== "")).toHaveLength(sample.filter((i) => i.kept && verdicts.get(i.id)!.verdict !== "reject").length)

    const log = lastJson((await runCli(["dataset", "log", "reviewed", "--json"], env)).stdout) as Array<{ sequence: number; lineage: { review?: unknown } }>
    const { round: _round, ...lineageReview } = result.reviews![0]!
    expect(log.find((v) => v.sequence === 1)!.lineage.review).toEqual(lineageReview)
    const reportDir = join(dir, "report-reviewed")
    expect((await runCli(["report", "reviewed@1", "--out", reportDir], { ...env, TEMPORAL_ADDRESS: "127.0.0.1:1" })).code, "a dataset report needs no Temporal").toBe(0)
    const html = readFileSync(join(reportDir, "index.html"), "utf8")
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!)
    expect(data.rounds[0].review).toEqual(lineageReview)
    expect(html).toContain('id="review-table"')
    const history = lastJson((await runCli(["campaign", "history", handle.workflowId, "--json"], env)).stdout)
    expect(history.reviews).toEqual(result.reviews)
    expect(history.updates).toEqual([])
    expect(history.reviewDecisions.filter((d: { round: number }) => d.round === 1).map((d: { decision_id: string }) => d.decision_id)).toEqual(applied)

    const runIds: string[] = []
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runIds.push(wf.runId)
    expect(runIds).toHaveLength(2)
    for (const runId of runIds) {
      const events = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory()
      await expect(Worker.runReplayHistory({ workflowsPath }, events), runId).resolves.toBeUndefined()
      if (process.env.WINNOW_SAVE_HISTORIES === "1" && runId === handle.firstExecutionRunId) writeFileSync(join(repoRoot, "tests/histories/campaign-review.json"), historyToJSON(events))
    }
  }, 300_000)

  it("at the deadline commits what it has, or fails the campaign without committing the round", async () => {
    const committing = await start("deadline-commit", { sample: 2, deadline_seconds: 3, on_deadline: "commit" })
    const failing = writeDemoSpec(dir, "deadline-fail", (s) => { s.rounds = 1; s.output.dataset = "deadline-fail"; s.review = { sample: 2, deadline_seconds: 3, on_deadline: "fail" } })
    const failed = await runCli(["run", failing, "--json"], env)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain("WINNOW_REVIEW_DEADLINE")
    expect(failed.stderr).toContain("round 1's review deadline (3 s) passed with 0 of 2 sampled records decided, 2 required")
    expect((await runCli(["dataset", "log", "deadline-fail", "--json"], env)).code, "nothing of the round was committed").toBe(2)

    const result = await committing.result()
    expect(result.reviews).toEqual([{ round: 1, sampled: 2, kept_sampled: 2, decided: 0, accepted: 0, rejected: 0, edited: 0, left_out: 0, reviewers: [], agreement: null, kappa: null, kept_accepted: null, outcome: "deadline" }])
    expect(result.kept).toBe(result.accepted)
    await expect(decide(committing, { decision_id: "late", round: 1, item: "x", reviewer: "alice", action: "accept" })).rejects.toBeInstanceOf(WorkflowNotFoundError)
  }, 240_000)

  it("ends a campaign cancelled while a round commits once that commit lands: the next round never starts", async () => {
    const handle = await start("cancel-in-commit", { sample: 1, include_rejected: 0 }, 3)
    await openRound(handle, 1)
    const lock = join(home, "store", "datasets", "cancel-in-commit", "refs", "HEAD.lock")
    mkdirSync(dirname(lock), { recursive: true })
    writeFileSync(lock, "another writer moving HEAD")
    const { item } = await claim(handle, "alice")
    await decide(handle, { decision_id: "last", round: 1, item: item!.id, reviewer: "alice", action: "accept" })
    await until(async () => ((await handle.query(progressQuery)).reviews?.length === 1 ? true : undefined), 60_000)
    await handle.cancel()
    await sleep(1000)
    expect(lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], env)).stdout).status, "the commit holds the cancel back").toBe("RUNNING")
    rmSync(lock)
    const ended = await Promise.race([handle.result().then(() => "completed", (e: unknown) => (e as { cause?: { name?: string } }).cause?.name), sleep(60_000).then(() => "still running")])
    expect(ended, "a cancel lost across the commit lets round 2 start and wait for reviewers").toBe("CancelledFailure")
    const status = lastJson((await runCli(["campaign", "status", handle.workflowId, "--json"], env)).stdout)
    expect(status.status).toBe("CANCELLED")
    expect(status.versions.map((v: { round: number }) => v.round)).toEqual([1])
  }, 240_000)

  it("refuses a bad review section before anything starts, and a review page for a campaign that does not exist", async () => {
    const spec = writeDemoSpec(dir, "bad-review", (s) => { s.review = { sample: 0, on_deadline: "later" } })
    const ran = await runCli(["campaign", "start", spec], env)
    expect(ran.code).toBe(2)
    expect(ran.stderr).toContain("review.sample: got 0")
    expect(ran.stderr).toContain('review.on_deadline: got "later"')
    const page = await runCli(["review", "--campaign", "no-such-campaign", "--port", "0"], env)
    expect(page.code).toBe(2)
    expect(page.stderr).toContain("campaign not found: no-such-campaign")
    const port = await runCli(["review", "--port", "http"], env)
    expect(port.code).toBe(2)
    expect(port.stderr).toContain('--port: got "http", expected a whole number from 0 to 65535')
  }, 60_000)
})
