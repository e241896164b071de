import type { CampaignHistory, FailureView } from "./historySummary.js"
import { printFields, printTable } from "./output.js"
import { printEvals } from "./roundStatsView.js"
import { printReviews } from "./reviewView.js"

/** One line naming a failed attempt: where, which activity, the code and message. */
export const failureLine = (f: FailureView): string =>
  `${f.activity ?? "workflow"}${f.attempt !== undefined ? ` (attempt ${f.attempt})` : ""} in ${f.workflowId}: ${f.code ? `[${f.code}] ` : ""}${f.message}`

const seconds = (from: string, to?: string) => (to ? `${Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10} s` : "running")

/** Prints `campaign history` for humans: runs (rounds), activities, failures, updates, versions, spend. */
export const printHistory = (h: CampaignHistory): void => {
  printFields({ campaign: h.campaignId, status: h.status, runs: h.runs.length, ...(h.failure ? { failure: failureLine(h.failure) } : {}), spent: h.spent })
  process.stdout.write("\nrounds (one workflow run each):\n")
  printTable(h.runs.map((r) => ({
    round: r.round, run: r.runId.slice(0, 8), started: r.started.replace("T", " ").slice(0, 19), took: seconds(r.started, r.closed), ended: r.ended,
    shards: `${r.shards.completed}/${r.shards.started}${r.shards.failed ? ` (${r.shards.failed} failed)` : ""}`,
    "eval shards": r.evalShards.started ? `${r.evalShards.completed}/${r.evalShards.started}` : "-"
  })), ["round", "run", "started", "took", "ended", "shards", "eval shards"])
  process.stdout.write("\nactivities:\n")
  printTable(h.activities.map((a) => ({ ...a, queues: a.queues.join(",") })), ["activity", "queues", "executions", "attempts", "retried", "failed"])
  if (h.failures.length > 0) {
    process.stdout.write("\nfailed attempts:\n")
    for (const f of h.failures) process.stdout.write(`  ${f.final ? "final " : "retried"}  ${failureLine(f)}\n`)
  }
  if (h.updates.length > 0) {
    process.stdout.write("\nlive changes:\n")
    printTable(h.updates.map((u) => ({ at: u.at.replace("T", " ").slice(0, 19), update: u.name, values: u.args.length ? JSON.stringify(u.args[0]) : "" })), ["at", "update", "values"])
  }
  if (h.versions.length > 0) {
    process.stdout.write("\nversions:\n")
    printTable(h.versions, ["round", "version", "records", "added"])
  }
  if (h.outputVersions) {
    process.stdout.write("\nversions of the other outputs:\n")
    printTable(h.outputVersions, ["output", "dataset", "round", "version", "records", "added"])
  }
  if (h.evals.length > 0) printEvals(h.evals)
  if (h.reviews) printReviews(h.reviews, h.reviewDecisions)
}
