import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import type { Browser, Page } from "puppeteer-core"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { type ReviewVerdict, reviewSummaryOf } from "../campaign/review.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { type ChromiumResult, ensureChromium } from "./support/chromium.js"
import { lastJson, repoRoot, runCli, startTestCluster, tempDir, until, writeDemoSpec } from "./support/harness.js"

/** The page's document, inside the functions puppeteer runs in the browser (no DOM types here). */
declare const document: any

/** `winnow review` as a child process, and the URL it printed. */
const startReviewPage = async (env: Record<string, string>, campaign: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> => {
  const child = spawn(process.execPath, [join(repoRoot, "bin/winnow.js"), "review", "--port", "0", "--json", "--campaign", campaign], { env: { ...process.env, WINNOW_LOG_LEVEL: "warn", ...env } })
  let out = ""
  let err = ""
  child.stderr.on("data", (d) => (err += d))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!).url)
    })
    child.on("exit", (code) => reject(new Error(`winnow review exited ${code}: ${err}`)))
  })
  return { child, url }
}

interface Decided {
  readonly id: string
  readonly kept: boolean
  readonly verdict: ReviewVerdict
  readonly reviewer: string
  readonly text?: string
}

const shown = (page: Page) => page.$eval("#record", (el) => ({ id: el.getAttribute("data-item-id") ?? "", kept: el.getAttribute("data-kept") === "true", visible: !el.classList.contains("hidden") }))

/** Waits until the page shows a record (true) or says nothing is left for its reviewer (false). */
const settled = async (page: Page): Promise<boolean> => {
  await page.waitForFunction(() => !document.getElementById("record")!.classList.contains("hidden") || !document.getElementById("idle")!.classList.contains("hidden"), { timeout: 60_000 })
  return (await shown(page)).visible
}

/** The decision id the page last had confirmed. */
const lastDecision = (page: Page) => page.$eval("#message", (el) => el.getAttribute("data-decision"))

/** Waits until the page confirmed a decision after `before` and moved off record `id`. */
const confirmed = (page: Page, before: string | null, id: string) =>
  page.waitForFunction((b, i) => {
    const message = document.getElementById("message")!
    const record = document.getElementById("record")!
    return message.getAttribute("data-decision") !== b && (record.getAttribute("data-item-id") !== i || record.classList.contains("hidden"))
  }, { timeout: 60_000 }, before, id)

describe("winnow review in Chromium", () => {
  let worker: RunningWorker
  let env: Record<string, string>
  let client: Client
  let browser: ChromiumResult = { skip: "not checked yet" }
  let review: { child: ChildProcessWithoutNullStreams; url: string } | undefined
  const dir = tempDir("review-page")
  const shot = async (page: Page, name: string) => {
    const path = join(dir, `${name}.png`)
    await page.screenshot({ path, fullPage: true })
    console.log(`review screenshot (${name}): ${path}`)
  }

  beforeAll(async () => {
    ;({ env, worker } = await startTestCluster("review-page"))
    client = new Client({ connection: await Connection.connect({ address: inject("temporalAddress") }) })
    browser = await ensureChromium((line) => process.stderr.write(`${line}\n`))
  })
  afterAll(async () => {
    review?.child.kill("SIGTERM")
    await client?.connection.close()
    await worker?.shutdown()
  })

  it("reviewers click and key through a round: never the same record, an abandoned one back in the pool, a lost answer applied once, a stale page refused, exactly the accepted and edited records committed, agreement in the report", async (ctx) => {
    if ("skip" in browser) {
      console.log(`skipping the browser test: ${browser.skip}`)
      return ctx.skip()
    }
    const spec = writeDemoSpec(dir, "reviewed", (s) => {
      s.rounds = 1
      s.output.dataset = "reviewed-page"
      s.review = { sample: 50, include_rejected: 2, lease_seconds: 8, required_share: 0.9 }
    })
    const started = await runCli(["campaign", "start", spec, "--json"], env)
    expect(started.code, started.stderr).toBe(0)
    const campaign = lastJson(started.stdout).campaignId as string
    review = await startReviewPage(env, campaign)
    const api = async (path: string, body?: unknown) => {
      const res = await fetch(new URL(path, review!.url), body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      return { status: res.status, body: await res.json() as any }
    }
    const decidedNow = async () => (await api("api/reviews")).body.reviews[0].state.decided as number
    const opened = await until(async () => {
      const answer = await api("api/reviews")
      return answer.body.reviews?.[0]?.state.status === "open" ? answer.body.reviews[0].state : undefined
    })
    expect(opened).toMatchObject({ round: 1, sampled: 12, kept_sampled: 10, required: 11 })

    const { launch } = await import("puppeteer-core")
    const chrome: Browser = await launch({ executablePath: browser.path, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const errors: string[] = []
      const open = async (reviewer: string) => {
        const page = await (await chrome.createBrowserContext()).newPage()
        page.on("pageerror", (e) => errors.push(`${reviewer}: ${String(e)}`))
        await page.setViewport({ width: 1280, height: 900 })
        await page.goto(`${review!.url}?reviewer=${reviewer}`, { waitUntil: "load" })
        expect(await settled(page)).toBe(true)
        return page
      }
      // Carol keeps a record open all along: her page renews its claim, so nobody else gets it.
      const carol = await open("carol")
      const alice = await open("alice")
      const bob = await open("bob")
      // Dave takes a record and goes away (his page closes): his lease runs out and the record returns to the pool.
      const dave = await open("dave")
      const daves = await shown(dave)
      const carols = await shown(carol)
      const held = [carols.id, (await shown(alice)).id, (await shown(bob)).id, daves.id]
      expect(new Set(held).size, "four reviewers hold four different records").toBe(4)
      await dave.close()
      expect(await alice.$eval("#accept", (b) => b.textContent)).toContain("接受")
      expect(await alice.$$eval("[lang=zh]", (nodes) => nodes.length)).toBeGreaterThan(10)
      await shot(alice, "review-alice")

      const decided: Decided[] = []
      const edited = "人工修改的回答：火车上适合读《三体》。A reviewer's edit."
      const decide = async (page: Page, reviewer: string, verdict: ReviewVerdict | "skip") => {
        const { id, kept } = await shown(page)
        const before = await lastDecision(page)
        if (verdict === "edit") {
          await page.keyboard.press("e")
          await page.waitForSelector("#edit-text:not(.hidden)")
          await page.$eval("#edit-text", (el) => { (el as any).value = "" })
          await page.type("#edit-text", edited)
          await shot(page, "review-edit")
          await page.keyboard.down("Control")
          await page.keyboard.press("Enter")
          await page.keyboard.up("Control")
        } else await page.keyboard.press(verdict === "accept" ? "a" : verdict === "reject" ? "r" : "s")
        await confirmed(page, before, id)
        if (verdict !== "skip") decided.push({ id, kept, verdict, reviewer, ...(verdict === "edit" ? { text: edited } : {}) })
      }
      /** Decides with the lost answer: the server applies it, the page hears nothing, then resends the same decision id. */
      const decideLosingTheAnswer = async (page: Page, reviewer: string) => {
        const { id, kept } = await shown(page)
        const before = await decidedNow()
        const cdp = await page.createCDPSession()
        await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*/api/decide", requestStage: "Response" }] })
        cdp.on("Fetch.requestPaused", (event) => void cdp.send("Fetch.failRequest", { requestId: event.requestId, errorReason: "ConnectionReset" }))
        await page.keyboard.press("a")
        await page.waitForSelector("#message[data-kind=offline]")
        expect(await page.$eval("#message-text", (el) => el.textContent)).toContain("连接中断")
        await shot(page, "review-connection-lost")
        expect(await decidedNow(), "the campaign applied it; only the answer was lost").toBe(before + 1)
        await cdp.send("Fetch.disable")
        await page.click("#retry")
        await page.waitForFunction(() => document.getElementById("message")!.getAttribute("data-code") === "REPEATED")
        expect(await page.$eval("#message-text", (el) => el.textContent)).toContain("nothing changed")
        expect(await decidedNow(), "the resent decision was not applied twice").toBe(before + 1)
        decided.push({ id, kept, verdict: "accept", reviewer })
        await settled(page)
      }

      const verdictFor = (kept: boolean, n: number): ReviewVerdict => (kept ? (n === 0 ? "edit" : n % 3 === 1 ? "reject" : "accept") : n % 2 === 0 ? "reject" : "accept")
      const reviewers = [[alice, "alice"], [bob, "bob"]] as const
      let turn = 0
      let skipped = false
      let lostAnswer = false
      while (decided.length < 11) {
        const [page, reviewer] = await until(async () => {
          for (const k of [turn, turn + 1]) {
            const [p, r] = reviewers[k % 2]!
            if ((await shown(p)).visible) return [p, r] as const
          }
          return undefined
        }, 60_000)
        turn++
        const { kept } = await shown(page)
        if (!skipped && decided.length === 2) {
          skipped = true
          await decide(page, reviewer, "skip")
        } else if (!lostAnswer && reviewer === "bob" && kept && decided.length >= 3) {
          lostAnswer = true
          await decideLosingTheAnswer(page, reviewer)
        } else {
          await decide(page, reviewer, verdictFor(kept, decided.filter((d) => d.kept === kept).length))
        }
        if (decided.length === 1) {
          const first = decided[0]!
          const late = await api("api/decide", { campaign, decision_id: "mallory-1", round: 1, item: first.id, reviewer: "mallory", action: "reject" })
          expect(late).toMatchObject({ status: 409, body: { error: { code: "REVIEW_NOT_PENDING", message: expect.stringContaining(`${first.reviewer} already decided`) } } })
          const bad = await api("api/decide", { campaign, round: 1, item: first.id, reviewer: "mallory", action: "accept" })
          expect(bad).toMatchObject({ status: 400, body: { error: { code: "REVIEW_BAD_REQUEST", message: expect.stringContaining("decision_id") } } })
          await shot(alice, "review-after-first")
        }
      }
      expect(skipped && lostAnswer).toBe(true)
      expect(new Set(decided.map((d) => d.id)).size, "no record was decided twice").toBe(11)
      expect(decided.map((d) => d.id)).toContain(daves.id)
      expect(decided.map((d) => d.id)).not.toContain(carols.id)
      const result = await client.workflow.getHandle(campaign).result()

      const stale = await api("api/decide", { campaign, decision_id: "carol-late", round: 1, item: carols.id, reviewer: "carol", action: "reject" })
      expect(stale).toMatchObject({ status: 410, body: { error: { code: "REVIEW_STALE", message: expect.stringContaining("no longer running") } } })
      await carol.keyboard.press("a")
      await carol.waitForSelector("#message[data-kind=stale]")
      // Her page learns it either from its claim renewal (the round closed or finished) or from the decision itself.
      expect(await carol.$eval("#message", (el) => el.getAttribute("data-code"))).toMatch(/^REVIEW_(STALE|CLOSED)$/)
      expect(await carol.$eval("#message-text", (el) => el.textContent)).toMatch(/nothing was changed[\s\S]*未做任何更改/)
      await shot(carol, "review-stale-page")
      expect(errors).toEqual([])

      const sample = [...decided.map((d) => ({ id: d.id, kept: d.kept })), { id: carols.id, kept: carols.kept }]
      const expected = reviewSummaryOf(sample, decided.map((d) => ({ decision_id: "", item: d.id, reviewer: d.reviewer, verdict: d.verdict, at: "" })), "reached")
      expect(result.reviews).toEqual([{ round: 1, ...expected }])
      const out = join(dir, "pulled.jsonl")
      expect((await runCli(["dataset", "pull", "reviewed-page", "--out", out], env)).code).toBe(0)
      const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l))
      const keptByReviewers = decided.filter((d) => d.kept && d.verdict !== "reject")
      const expectedIds = [...keptByReviewers.filter((d) => d.verdict === "accept").map((d) => d.id), ...(carols.kept ? [carols.id] : [])]
      expect(rows.filter((r) => r.messages.at(-1).content !== edited).map((r) => r.id).sort(), "exactly the accepted records (and carol's undecided one if kept)").toEqual(expectedIds.sort())
      expect(rows.filter((r) => r.messages.at(-1).content === edited)).toHaveLength(1)
      expect(rows).toHaveLength(keptByReviewers.length + (carols.kept ? 1 : 0))
      for (const row of rows) {
        const d = keptByReviewers.find((k) => k.id === row.id) ?? (row.id === carols.id ? undefined : keptByReviewers.find((k) => k.verdict === "edit"))
        expect(row.provenance.review).toMatchObject(d ? { decision: d.verdict, reviewer: d.reviewer, edited: d.verdict === "edit" } : { decision: "", reviewer: "" })
      }

      const reportDir = join(dir, "report")
      expect((await runCli(["report", campaign, "--out", reportDir], env)).code).toBe(0)
      const page = await chrome.newPage()
      await page.setViewport({ width: 1280, height: 900 })
      await page.goto(`file://${join(reportDir, "index.html")}`, { waitUntil: "load" })
      expect(await page.$eval("#review-table .agreement", (el) => el.textContent)).toBe(`${(expected.agreement! * 100).toFixed(1)}%`)
      expect(await page.$$eval("img[src='charts/review.svg']", (imgs) => imgs.every((img) => (img as any).naturalWidth > 0))).toBe(true)
      await page.$eval("#review", (el) => el.scrollIntoView())
      const path = join(dir, "report-review.png")
      await page.screenshot({ path })
      console.log(`report screenshot (review section): ${path}`)
    } finally {
      await chrome.close()
    }
  }, 300_000)
})
