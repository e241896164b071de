import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DOMParser } from "@xmldom/xmldom"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ReportData } from "../report/model.js"
import type { RunningWorker } from "../worker/temporalWorker.js"
import { type ChromiumResult, ensureChromium } from "./support/chromium.js"
import { lastJson, repoRoot, runCli, startTestCluster, tempDir, writeDemoSpec } from "./support/harness.js"

/** The `<text>` contents of an SVG, after checking it parses as XML with an `<svg>` root. */
const svgTexts = (path: string): string[] => {
  const errors: string[] = []
  const doc = new DOMParser({ onError: (level, message) => { if (level !== "warning") errors.push(message) } }).parseFromString(readFileSync(path, "utf8"), "image/svg+xml")
  expect(errors, path).toEqual([])
  expect(doc.documentElement?.nodeName).toBe("svg")
  return Array.from(doc.getElementsByTagName("text")).map((t) => t.textContent ?? "")
}

/** The JSON a report page embeds. */
const embedded = (html: string): ReportData => JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!)

const demoPrompts = readFileSync(join(repoRoot, "examples/prompts/demo.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; prompt: string })

describe("winnow report", () => {
  let worker: RunningWorker
  let env: Record<string, string>
  let home: string
  const dir = tempDir("report")
  let kept: { id: string; out: string; data: ReportData; html: string }
  let browser: ChromiumResult = { skip: "not checked yet" }

  beforeAll(async () => {
    ;({ env, worker, home } = await startTestCluster("report"))
    browser = await ensureChromium((line) => process.stderr.write(`${line}\n`))
  })
  afterAll(async () => worker?.shutdown())

  it("reports a campaign that kept its work files: charts, every sample, the kept one marked, its statistics", async () => {
    const held = join(dir, "held.jsonl")
    writeFileSync(held, ['{"id":"held-zh","prompt":"二加三等于几？","reference":"5"}', '{"id":"held-en","prompt":"What is two plus two?","reference":"4"}'].join("\n"))
    const spec = writeDemoSpec(dir, "kept", (s) => {
      s.output.dataset = "report-kept"
      s.output.keep_work = true
      s.scorers.push({ name: "correct", type: "verifier", check: "answer_match", weight: 0 })
      s.eval = { prompts: held, n: 2 }
    })
    const ran = await runCli(["run", spec, "--json"], env)
    expect(ran.code, ran.stderr).toBe(0)
    const result = lastJson(ran.stdout)
    const id = result.campaignId as string
    const out = join(dir, "kept-report")
    const made = await runCli(["report", id, "--out", out, "--json"], env)
    expect(made.code, made.stderr).toBe(0)
    const answer = lastJson(made.stdout)
    expect(answer).toMatchObject({ rounds: 2, all_samples: true, prompts: 20 })
    const html = readFileSync(join(out, "index.html"), "utf8")
    const data = embedded(html)
    kept = { id, out, data, html }

    for (const chart of answer.charts as string[]) svgTexts(join(out, chart))
    const texts = (file: string) => svgTexts(join(out, "charts", file)).join("\n")
    expect(texts("acceptance.svg")).toContain("accepted / generated")
    expect(texts("acceptance.svg")).toContain("passed every filter")
    for (const file of ["score-combined.svg", "score-scorer-1-reward.svg", "score-scorer-2-quality.svg", "score-scorer-3-correct.svg"]) {
      for (const series of ["mean, all samples", "mean, kept", "best-of-N gain"]) expect(texts(file)).toContain(series)
    }
    for (const series of ["combined", "reward", "quality"]) expect(texts("gain.svg")).toContain(series)
    for (const file of ["hist-combined.svg", "hist-scorer-1-reward.svg", "hist-scorer-2-quality.svg"]) {
      for (const label of ["all samples", "kept", "r1", "r2"]) expect(texts(file)).toContain(label)
    }
    expect(texts("eval.svg")).toContain("start")
    expect(texts("eval.svg")).toContain("pass@1")
    expect(data.evals).toEqual(result.evals.map((e: { round: number; pass_at_1: number }) => ({ label: e.round === 0 ? "start" : `after r${e.round}`, pass_at_1: e.pass_at_1 })))
    expect(data.rounds[0]!.pass_at_1).toBe(result.evals[0].pass_at_1)
    expect(texts("distinct.svg")).toContain("distinct-2")
    expect(texts("lengths.svg")).toContain("tokens, kept")
    expect(texts("truncation.svg")).toContain("cut at max_new_tokens")
    expect(texts("languages.svg")).toMatch(/, all samples[\s\S]*, kept|, kept[\s\S]*, all samples/)
    expect(texts("correlation.svg")).toMatch(/reward[\s\S]*quality/)
    expect(texts("correlation-rounds.svg")).toContain("reward ~ quality")

    expect(html).toContain('<meta charset="utf-8">')
    for (const p of demoPrompts) expect(html).toContain(p.prompt)
    const zh = data.browser.prompts.find((p) => p.prompt_id === "zh-math")!
    expect(zh).toMatchObject({ lang: "zh", all_samples: true, prompt: demoPrompts.find((p) => p.id === "zh-math")!.prompt })
    expect(data.browser.prompts.find((p) => p.prompt_id === "en-math")!.lang).toBe("en")

    const status = lastJson((await runCli(["campaign", "status", id, "--json"], env)).stdout)
    expect(data.rounds.map((r) => r.source)).toEqual(["history", "history"])
    expect(data.rounds.map((r) => r.stats)).toEqual(status.stats)
    expect(data.rounds[0]!.stats.histograms?.scores.reward?.all.reduce((a, b) => a + b, 0)).toBe(40)
    expect(data.rounds[0]!.stats.correlations?.map((c) => `${c.a}~${c.b}`)).toEqual(["reward~quality", "reward~correct", "reward~score", "quality~correct", "quality~score", "correct~score"])
    expect(data.lineage.map((v) => [v.sequence, v.campaign, v.round])).toEqual([[1, id, 1], [2, id, 2]])

    for (const round of [1, 2]) {
      const selected = [0, 1, 2].flatMap((s) => {
        const path = join(home, "store", "work", id, `r${round}`, `s${s}`, "selected.jsonl")
        return readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prompt_id: string; sample_index: number })
      })
      for (const prompt of data.browser.prompts.filter((p) => p.round === `r${round}`)) {
        expect(prompt.samples).toHaveLength(4)
        const marked = prompt.samples.filter((s) => s.kept)
        expect(marked.map((s) => s.index)).toEqual(selected.filter((row) => row.prompt_id === prompt.prompt_id).map((row) => row.sample_index))
        const best = Math.max(...prompt.samples.filter((s) => s.passed).map((s) => s.score ?? -Infinity))
        expect(marked[0]!.score).toBe(best)
      }
    }
    expect(html).not.toContain('id="rejected-not-kept"')
  }, 300_000)

  it("says plainly that rejected samples were not kept, and reports a dataset version without Temporal", async () => {
    const spec = writeDemoSpec(dir, "gone", (s) => { s.output.dataset = "report-gone"; s.rounds = 1 })
    const ran = await runCli(["run", spec, "--json"], env)
    expect(ran.code, ran.stderr).toBe(0)
    const out = join(dir, "gone-report")
    const made = await runCli(["report", "report-gone@1", "--out", out, "--json"], { ...env, TEMPORAL_ADDRESS: "127.0.0.1:1" })
    expect(made.code, made.stderr).toBe(0)
    const html = readFileSync(join(out, "index.html"), "utf8")
    expect(html).toContain('id="rejected-not-kept"')
    expect(html).toContain("Rejected samples were not kept")
    const data = embedded(html)
    expect(data.rounds.map((r) => r.source)).toEqual(["records"])
    expect(data.browser.prompts).toHaveLength(10)
    for (const prompt of data.browser.prompts) expect(prompt.samples.map((s) => s.kept)).toEqual([true])
    for (const p of demoPrompts) expect(html).toContain(p.prompt)
    expect(data.lineage).toHaveLength(1)
  }, 300_000)

  it("refuses bad arguments with exit 2, naming them", async () => {
    const missing = await runCli(["report"], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("missing argument")
    const nothing = await runCli(["report", "no-such-campaign", "--out", join(dir, "x")], env)
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toContain("campaign not found: no-such-campaign")
    const badVersion = await runCli(["report", "report-gone@99", "--out", join(dir, "y")], env)
    expect(badVersion.code).toBe(2)
    const busy = join(dir, "busy")
    mkdirSync(busy, { recursive: true })
    writeFileSync(join(busy, "notes.txt"), "mine")
    const refused = await runCli(["report", "report-gone", "--out", busy], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("--out")
    expect(readFileSync(join(busy, "notes.txt"), "utf8")).toBe("mine")
  }, 120_000)

  it("works in Chromium from file://: search box, scorer range filter, kept samples marked (screenshot saved)", async (ctx) => {
    if ("skip" in browser) {
      console.log(`skipping the browser test: ${browser.skip}`)
      return ctx.skip()
    }
    expect(kept, "the first test must have written a report").toBeDefined()
    const { launch } = await import("puppeteer-core")
    const chrome = await launch({ executablePath: browser.path, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await chrome.newPage()
      const failed: string[] = []
      page.on("requestfailed", (r) => failed.push(r.url()))
      page.on("pageerror", (e) => failed.push(String(e)))
      await page.setViewport({ width: 1280, height: 1600 })
      await page.goto(`file://${join(kept.out, "index.html")}`, { waitUntil: "load" })
      const count = () => page.$$eval("#prompts .prompt", (nodes) => nodes.length)
      expect(await count()).toBe(20)
      expect(await page.$$eval("#prompts .sample.kept", (nodes) => nodes.length)).toBe(20)
      expect(await page.$$eval(".prompt-text[lang=zh]", (nodes) => nodes.length)).toBeGreaterThan(0)
      expect(await page.$$eval(".prompt-text[lang=en]", (nodes) => nodes.length)).toBeGreaterThan(0)
      expect(await page.$$eval("img", (imgs) => imgs.every((img: any) => img.complete && img.naturalWidth > 0))).toBe(true)

      const top = join(dir, "report-top.png")
      await page.screenshot({ path: top })
      console.log(`report screenshot (curves): ${top}`)

      await page.type("#search", "苹果")
      const found = await page.$$eval("#prompts .prompt", (nodes) => nodes.map((n) => n.getAttribute("data-prompt-id")))
      const matching = kept.data.browser.prompts.filter((p) => p.prompt.includes("苹果") || p.samples.some((x) => x.text.includes("苹果")))
      expect(found).toEqual(matching.map((p) => p.prompt_id))
      expect(found).toContain("zh-math")
      expect(found.length).toBeLessThan(20)
      await page.$eval("#search", (input: any) => { input.value = "" })
      await page.select("#scorer", "quality")
      await page.type("#min", "1")
      const shown = await page.$$eval("#prompts .sample", (cards) => cards.map((card: any) => {
        const row: any = Array.from(card.querySelectorAll("table.scores tr")).find((tr: any) => tr.querySelector("th")?.textContent === "quality")
        return Number(row?.querySelector("td")?.textContent)
      }))
      const expected = kept.data.browser.prompts.flatMap((p) => p.samples).filter((s) => (s.scores.quality ?? -1) >= 1).length
      expect(shown.length).toBe(expected)
      expect(shown.every((v) => v >= 1)).toBe(true)
      expect(failed).toEqual([])
      const shot = join(dir, "report.png")
      await page.screenshot({ path: shot, fullPage: false })
      console.log(`report screenshot (sample browser, filtered): ${shot}`)
      expect(existsSync(shot)).toBe(true)
    } finally {
      await chrome.close()
    }
  }, 180_000)
})
