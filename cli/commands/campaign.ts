import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Logger } from "pino"
import { defaultPayloadConverter } from "@temporalio/common"
import type { temporal } from "@temporalio/proto"
import type { RoundStats } from "../../campaign/contracts.js"
import type { EvalStats } from "../../campaign/evaluation.js"
import { type Command, type ParsedArgs, twoColumns, UsageError } from "../args.js"
import { CAMPAIGN_WORKFLOW, queryProgress, startCampaign, waitForCampaign } from "../campaignClient.js"
import { readCliConfig } from "../config.js"
import { printAnswer, printFields, printTable, ProgressBar } from "../output.js"
import { printEvals, printRoundStats } from "../roundStatsView.js"
import { printReviews, reviewLine } from "../reviewView.js"
import type { RoundReview } from "../../campaign/review.js"
import type { ReviewState } from "../../campaign/reviewPool.js"
import { controlCommands } from "./control.js"
import { observeCommands } from "./observe.js"
import { loadCampaignHistory } from "../historyLoad.js"
import type { CampaignHistory, FailureView } from "../historySummary.js"
import { failureLine } from "../historyView.js"
import { hasWorker, queueStatus } from "../queueStatus.js"
import { printQueues } from "../roundStatsView.js"
import { specQuery } from "../../workflows/control.js"
import { withSession } from "../session.js"
import { checkPromptsFit, loadSpecFile } from "../specFile.js"

const RUN_OPTIONS = {
  json: { type: "boolean" },
  "task-queue": { type: "string" },
  "no-progress": { type: "boolean" }
} as const

const runSpec = async (specPath: string, args: ParsedArgs, log: Logger, embed: boolean): Promise<number> => {
  const loaded = loadSpecFile(specPath)
  await checkPromptsFit(loaded.spec, loaded.path)
  const config = readCliConfig(process.env, args.values["task-queue"] as string | undefined)
  const started = Date.now()
  return withSession(config, log, embed ? "run" : "start", async (session) => {
    const handle = await startCampaign(session.client, session.taskQueue, loaded)
    log.info({ campaignId: handle.workflowId, address: session.address, embedded: session.embedded }, "campaign started")
    const bar = new ProgressBar(process.stderr.isTTY === true && args.values["no-progress"] !== true && args.values.json !== true)
    const result = await waitForCampaign(handle, bar)
    const summary = { ...result, seconds: Math.round((Date.now() - started) / 100) / 10 }
    await printAnswer(args.values.json, summary, () => printFields(summary))
    if (result.outcome === undefined || result.outcome === "ok") return 0
    process.stderr.write(`winnow: campaign ${result.campaignId} completed ${result.outcome === "empty" ? "without adding a record" : "short of its goal"}: ${result.reason}\n`)
    return 3
  })
}

/** `winnow run <spec>`: run a campaign to completion (embedded server unless TEMPORAL_ADDRESS is set). */
export const runCommand = (log: Logger): Command => ({
  name: "run",
  summary: "Run a campaign to completion. Without TEMPORAL_ADDRESS, starts an embedded Temporal dev server and worker.",
  usage: "run <spec.yaml> [--json]",
  options: RUN_OPTIONS,
  positionals: { min: 1, max: 1 },
  run: (args) => runSpec(args.positionals[0]!, args, log, true)
})

/** The bundled demo spec (this file runs from `cli/commands/` or `dist/cli/commands/`). */
export const demoSpecPath = (): string => {
  const candidates = ["../../examples/demo.yaml", "../../../examples/demo.yaml"].map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!
}

/** `winnow demo`: run the bundled Chinese/English demo campaign. */
export const demoCommand = (log: Logger): Command => ({
  name: "demo",
  summary: "Run the bundled demo campaign (Chinese and English prompts, a tiny bundled model).",
  usage: "demo [--json]",
  options: RUN_OPTIONS,
  positionals: { min: 0, max: 0 },
  run: (args) => runSpec(demoSpecPath(), args, log, true)
})

const campaignStart = (log: Logger): Command => ({
  name: "start",
  summary: "Start a campaign. Returns its id at once, or waits with --wait (an embedded server is used only with --wait).",
  usage: "campaign start <spec.yaml> [--wait] [--json]",
  options: { ...RUN_OPTIONS, wait: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    if (args.values.wait) return runSpec(args.positionals[0]!, args, log, true)
    const loaded = loadSpecFile(args.positionals[0]!)
    await checkPromptsFit(loaded.spec, loaded.path)
    const config = readCliConfig(process.env, args.values["task-queue"] as string | undefined)
    return withSession(config, log, "start", async (session) => {
      const handle = await startCampaign(session.client, session.taskQueue, loaded)
      await printAnswer(args.values.json, { campaignId: handle.workflowId, dataset: loaded.spec.output.dataset }, () => void process.stdout.write(`${handle.workflowId}\n`))
      return 0
    })
  }
})

const campaignStatus = (log: Logger): Command => ({
  name: "status",
  summary: "Show a campaign's status, progress and per-round score statistics.",
  usage: "campaign status <campaign-id> [--json]",
  options: { json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const config = readCliConfig(process.env)
    return withSession(config, log, "inspect", async (session) => {
      const handle = session.client.workflow.getHandle(args.positionals[0]!)
      const description = await handle.describe()
      const status = description.status.name
      const answered = await hasWorker(session.client, description.taskQueue)
        ? await session.client.withDeadline(Date.now() + 10_000, () => queryProgress(handle))
        : undefined
      const history = status === "RUNNING" ? undefined : await loadCampaignHistory(session.client, handle.workflowId, { shards: status === "FAILED" })
      const { status: _lifecycle, ...live } = (answered ?? (history ? progressOfHistory(history) : {})) as Record<string, unknown>
      const pending = pendingActivities(description.raw.pendingActivities ?? [])
      const spec = status === "RUNNING" ? await handle.query(specQuery).catch(() => undefined) : undefined
      const queues = spec ? await queueStatus(session.client, handle, spec, description.taskQueue) : undefined
      const view = {
        campaignId: handle.workflowId, status, ...live,
        ...(history?.result ? { result: history.result } : {}),
        ...(history?.failure ? { failure: history.failure } : {}),
        startTime: description.startTime.toISOString(),
        ...(pending.length > 0 ? { pending } : {}),
        ...(queues ? { queues } : {})
      }
      await printAnswer(args.values.json, view, () => {
        const { stats, evals, failure, queues: queueStates, review, reviews, ...fields } = view as typeof view & {
          stats?: readonly RoundStats[]; evals?: readonly EvalStats[]; failure?: FailureView; review?: ReviewState; reviews?: readonly RoundReview[]
        }
        const { reviews: _reviews, ...result } = (fields as { result?: Record<string, unknown> }).result ?? {}
        printFields({ ...fields, ...(fields.result ? { result } : {}), ...(failure ? { failure: failureLine(failure) } : {}), ...(review && status === "RUNNING" ? { review: reviewLine(review) } : {}) })
        if (queueStates) printQueues(queueStates)
        for (const round of stats ?? []) printRoundStats(round)
        if (evals && evals.length > 0) printEvals(evals)
        if (reviews && reviews.length > 0) printReviews(reviews)
      })
      return 0
    })
  }
})

/** What a closed campaign's history says of its progress, when no worker can answer its query. */
const progressOfHistory = (h: CampaignHistory) => ({
  versions: h.versions, ...(h.outputVersions ? { outputVersions: h.outputVersions } : {}), ...(h.stats.length ? { stats: h.stats } : {}), ...(h.evals.length ? { evals: h.evals } : {}),
  spent: h.spent,
  ...(h.reviews ? { reviews: h.reviews } : {}),
  ...(h.updates.length ? { revisions: h.updates.filter((u) => u.name === "set").map((u, i) => ({ revision: i + 1, at: u.at, values: u.args[0] })) } : {}),
  source: "history"
})

/**
 * The activities a campaign's own run is waiting on: type, attempt, and the last heartbeat's
 * details (the improve step's training step and loss).
 */
const pendingActivities = (pending: readonly temporal.api.workflow.v1.IPendingActivityInfo[]) =>
  pending.map((p) => {
    const details = p.heartbeatDetails?.payloads?.[0]
    return {
      activity: p.activityType?.name ?? "",
      attempt: p.attempt ?? 1,
      ...(details ? { progress: defaultPayloadConverter.fromPayload(details) } : {}),
      ...(p.lastFailure?.message ? { lastFailure: p.lastFailure.message } : {})
    }
  })

const campaignList = (log: Logger): Command => ({
  name: "list",
  summary: "List campaigns, newest first, with dataset and status.",
  usage: "campaign list [--json]",
  options: { json: { type: "boolean" } },
  positionals: { min: 0, max: 0 },
  run: async (args) => {
    const config = readCliConfig(process.env)
    return withSession(config, log, "inspect", async (session) => {
      const rows = new Map<string, Record<string, unknown>>()
      for await (const wf of session.client.workflow.list({ query: `WorkflowType = '${CAMPAIGN_WORKFLOW}'` })) {
        if (rows.has(wf.workflowId)) continue
        const sa = wf.searchAttributes as Record<string, unknown[] | undefined>
        rows.set(wf.workflowId, {
          campaignId: wf.workflowId,
          name: sa.WinnowCampaign?.[0] ?? "",
          dataset: sa.WinnowDataset?.[0] ?? "",
          status: sa.WinnowStatus?.[0] ?? wf.status.name.toLowerCase(),
          temporalStatus: wf.status.name,
          startTime: wf.startTime.toISOString()
        })
      }
      const list = [...rows.values()]
      await printAnswer(args.values.json, list, () => printTable(list, ["campaignId", "dataset", "status", "startTime"]))
      return 0
    })
  }
})

const campaignCancel = (log: Logger): Command => ({
  name: "cancel",
  summary: "Ask a running campaign to stop; its committed versions stay.",
  usage: "campaign cancel <campaign-id> [--json]",
  options: { json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const config = readCliConfig(process.env)
    return withSession(config, log, "attach", async (session) => {
      await session.client.workflow.getHandle(args.positionals[0]!).cancel()
      await printAnswer(args.values.json, { campaignId: args.positionals[0], cancelled: true }, () => void process.stdout.write(`cancellation requested: ${args.positionals[0]}\n`))
      return 0
    })
  }
})

/** `winnow campaign <start|status|list|cancel>`. */
export const campaignCommands = (log: Logger): Command[] => [campaignStart(log), campaignStatus(log), campaignList(log), campaignCancel(log), ...controlCommands(log), ...observeCommands(log)]

/** Raised when a group command is called without a known subcommand. */
export const unknownSubcommand = (group: string, name: string | undefined, commands: Command[]): UsageError =>
  new UsageError(
    name ? `unknown command: ${group} ${name}` : `missing command after ${group}`,
    [`Usage: winnow ${group} <command>`, "", ...twoColumns(commands.map((c) => [c.usage, c.summary]), 46)].join("\n")
  )

