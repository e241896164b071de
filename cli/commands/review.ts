import { userInfo } from "node:os"
import { WorkflowNotFoundError } from "@temporalio/common"
import type { Logger } from "pino"
import { reviewerIssue } from "../../campaign/reviewPool.js"
import { DEFAULTS } from "../../core/defaults.js"
import { inputInvalid, NotFound } from "../../core/errors.js"
import { storeRoot } from "../../core/home.js"
import { workArea } from "../../datasets/workArea.js"
import { ReviewApi } from "../../review/api.js"
import { reviewItemReader } from "../../review/items.js"
import { startReviewServer } from "../../review/server.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { printJson } from "../output.js"
import { withSession } from "../session.js"

const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"))
    process.once("SIGTERM", () => resolve("SIGTERM"))
  })

const defaultReviewer = (): string => {
  try {
    return userInfo().username
  } catch {
    return ""
  }
}

/**
 * `winnow review`: serves the local review page for campaigns whose round waits for reviewers
 * (`review` in the spec) until SIGINT/SIGTERM. Needs this home's Temporal server (or
 * TEMPORAL_ADDRESS) and its store, where each round's review file is.
 */
export const reviewCommand = (log: Logger): Command => {
  const command: Command = {
    name: "review",
    summary: "Serve the review page: people accept, reject, edit or skip a sample of each round's records before it commits (keys a/r/e/s; English and Chinese).",
    usage: "review [--port <n>] [--host <addr>] [--campaign <id>] [--reviewer <name>] [--json]",
    options: { port: { type: "string" }, host: { type: "string" }, campaign: { type: "string" }, reviewer: { type: "string" }, json: { type: "boolean" } },
    descriptions: {
      port: `HTTP port of the page (default ${DEFAULTS.reviewServer.port}; 0 picks a free one)`,
      host: `address to listen on (default ${DEFAULTS.reviewServer.host}, this machine only; the page has no login, so open it wider only on a trusted network)`,
      campaign: "review this campaign only (default: every running campaign with a round waiting for review)",
      reviewer: "the reviewer name the page proposes (default: your user name; each reviewer can change it on the page)",
      json: "print {\"url\"} as one JSON line once listening"
    },
    positionals: { min: 0, max: 0 },
    run: async (args) => {
      const portText = args.values.port
      const port = portText === undefined ? DEFAULTS.reviewServer.port : Number(portText)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: got ${JSON.stringify(portText)}, expected a whole number from 0 to 65535`, helpOf(command))
      const host = (args.values.host as string | undefined) ?? DEFAULTS.reviewServer.host
      const campaign = args.values.campaign as string | undefined
      if (campaign !== undefined && campaign.trim() === "") throw new UsageError("--campaign: got \"\", expected a campaign id", helpOf(command))
      const reviewer = (args.values.reviewer as string | undefined) ?? defaultReviewer()
      if (args.values.reviewer !== undefined && reviewerIssue(reviewer)) throw new UsageError(`--reviewer: ${reviewerIssue(reviewer)!.message}`, helpOf(command))
      const config = readCliConfig(process.env)
      return withSession(config, log, "attach", async (session) => {
        if (campaign !== undefined) {
          await session.client.workflow.getHandle(campaign).describe().catch((error: unknown) => {
            throw error instanceof WorkflowNotFoundError ? new NotFound({ kind: "campaign", name: campaign, hint: "`winnow campaign list` shows the campaigns this server knows" }) : error
          })
        }
        const api = new ReviewApi(session.client, reviewItemReader(workArea(storeRoot(config.home))))
        const server = await startReviewServer({ api, host, port, reviewer, ...(campaign !== undefined ? { campaign } : {}) }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "EADDRINUSE") throw inputInvalid("winnow review", "--port", port, `a free port (${host}:${port} is in use)`)
          if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") throw inputInvalid("winnow review", "--host", host, "an address of this machine")
          throw error
        })
        if (args.values.json === true) printJson({ url: server.url })
        else process.stdout.write(`Review page: ${server.url}\nPress Ctrl+C to stop.\n`)
        const signal = await untilSignal()
        log.info({ signal }, "shutting down the review page")
        await server.close()
        return 0
      })
    }
  }
  return command
}
