import type { Logger } from "pino"
import type { WorkflowHandle } from "@temporalio/client"
import type { CampaignSpec } from "../../campaign/spec.js"
import { specQuery } from "../../workflows/control.js"
import { type Command, UsageError } from "../args.js"
import { queryProgress } from "../campaignClient.js"
import { readCliConfig } from "../config.js"
import { loadCampaignHistory } from "../historyLoad.js"
import { printHistory } from "../historyView.js"
import { printAnswer, printJson } from "../output.js"
import { withSession } from "../session.js"
import { frameOf, type Reading, watchLines } from "../watchView.js"

const campaignHistory = (log: Logger): Command => ({
  name: "history",
  summary: "Summarize a campaign's workflow history: rounds, shards, activity attempts and failures, live changes, versions, spend.",
  usage: "campaign history <campaign-id> [--json]",
  options: { json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: (args) => withSession(readCliConfig(process.env), log, "inspect", async (session) => {
    const history = await loadCampaignHistory(session.client, args.positionals[0]!)
    await printAnswer(args.values.json, history, () => printHistory(history))
    return 0
  })
})

const running = async (handle: WorkflowHandle): Promise<boolean> => (await handle.describe()).status.name === "RUNNING"

const specOf = async (handle: WorkflowHandle): Promise<CampaignSpec | undefined> => {
  try {
    return await handle.query(specQuery)
  } catch {
    return undefined
  }
}

/** Draws `lines` in place of the previous drawing (a terminal), or prints them once (a pipe). */
const redraw = (() => {
  let drawn = 0
  return (lines: readonly string[], tty: boolean) => {
    if (tty && drawn > 0) process.stderr.write(`\x1b[${drawn}F\x1b[0J`)
    process.stderr.write(`${lines.join("\n")}\n`)
    drawn = tty ? lines.length : 0
  }
})()

const WATCH_USAGE = "campaign watch <campaign-id> [--json] [--interval <seconds>]"

const campaignWatch = (log: Logger): Command => ({
  name: "watch",
  summary: "Follow a running campaign: a bar per round, samples/s, acceptance, ETA, budget left (--json: a progress object per change).",
  usage: WATCH_USAGE,
  options: { json: { type: "boolean" }, interval: { type: "string" } },
  positionals: { min: 1, max: 1 },
  run: (args) => withSession(readCliConfig(process.env), log, "inspect", async (session) => {
    const interval = args.values.interval === undefined ? 1 : Number(args.values.interval)
    if (!(interval >= 0.2 && interval <= 3600)) throw new UsageError(`--interval: got ${JSON.stringify(args.values.interval)}, expected seconds between 0.2 and 3600`, `Usage: winnow ${WATCH_USAGE}`)
    const handle = session.client.workflow.getHandle(args.positionals[0]!)
    await handle.describe()
    const tty = process.stderr.isTTY === true && args.values.json !== true
    const readings: Reading[] = []
    let budget = (await specOf(handle))?.budget
    let last = ""
    for (;;) {
      const live = await running(handle)
      const progress = live ? await queryProgress(handle) : undefined
      if (progress) {
        readings.push({ at: Date.now(), progress })
        while (readings.length > 1 && readings[0]!.at < Date.now() - 120_000) readings.shift()
        const frame = frameOf(readings, budget)
        const key = JSON.stringify({ ...frame, at: undefined, etaSeconds: undefined, samplesPerSecond: undefined, budgetLeft: undefined })
        if (args.values.json === true) {
          if (key !== last) printJson(frame)
        } else if (tty || key !== last) redraw(watchLines(frame), tty)
        last = key
      }
      if (!live) break
      await new Promise((r) => setTimeout(r, interval * 1000))
      if (readings.length % 30 === 0) budget = (await specOf(handle))?.budget ?? budget
    }
    const history = await loadCampaignHistory(session.client, handle.workflowId)
    const end = { campaignId: handle.workflowId, status: history.status, ...(history.result ? { result: history.result } : {}), ...(history.failure ? { failure: history.failure } : {}) }
    await printAnswer(args.values.json, { event: "ended", ...end }, () => void process.stderr.write(`campaign ${handle.workflowId} ${history.status}${history.failure ? `: ${history.failure.message}` : ""}\n`))
    return history.status === "completed" ? 0 : 1
  })
})

/** `winnow campaign history|watch`: read what a campaign did and follow what it does. */
export const observeCommands = (log: Logger): Command[] => [campaignHistory(log), campaignWatch(log)]
