import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type DecideRequest, decideRequestIssue, reviewerIssue } from "../campaign/reviewPool.js"
import { ReviewProblem, type ReviewApi } from "./api.js"
import { reviewPage } from "./page.js"

/** How `winnow review` serves: the API over Temporal, where it listens, and what the page starts with. */
export interface ReviewServerOptions {
  readonly api: Pick<ReviewApi, "reviews" | "claim" | "decide">
  readonly host: string
  readonly port: number
  /** Serve only this campaign's review (else every running campaign with an open one). */
  readonly campaign?: string
  /** The reviewer name the page proposes. */
  readonly reviewer: string
}

/** A listening review server. */
export interface RunningReviewServer {
  readonly url: string
  close(): Promise<void>
}

/** Largest request body: an edit of `LIMITS.maxReviewEditChars` characters in UTF-8, with room to spare. */
const MAX_BODY_BYTES = 512 * 1024

const send = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
  res.end(text)
}

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new ReviewProblem(413, "REVIEW_BAD_REQUEST", `request body over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object")
    return value as Record<string, unknown>
  } catch {
    throw new ReviewProblem(400, "REVIEW_BAD_REQUEST", "the request body is not a JSON object")
  }
}

const campaignOf = (body: Record<string, unknown>, fixed: string | undefined): string => {
  const campaign = body.campaign ?? fixed
  if (typeof campaign !== "string" || campaign.length === 0) throw new ReviewProblem(400, "REVIEW_BAD_REQUEST", `campaign: got ${JSON.stringify(campaign)}, expected a campaign id`)
  if (fixed !== undefined && campaign !== fixed) throw new ReviewProblem(400, "REVIEW_BAD_REQUEST", `campaign: got ${JSON.stringify(campaign)}, this page serves ${fixed} only`)
  return campaign
}

/**
 * The local review server: one page (`GET /`) and a JSON API — `GET /api/reviews` (campaigns
 * waiting for reviewers), `POST /api/claim` `{campaign, reviewer}` (the next record, with its
 * texts), `POST /api/decide` `{campaign, decision_id, round, item, reviewer, action, text?}`.
 * Refusals answer with `{error: {code, message}}` and a status (400 bad request, 409 refused,
 * 410 out of date, 504 no answer), and change nothing.
 */
export const startReviewServer = async (options: ReviewServerOptions): Promise<RunningReviewServer> => {
  const page = reviewPage({ campaign: options.campaign ?? null, reviewer: options.reviewer })
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost")
    if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
      return void res.end(page)
    }
    if (req.method === "GET" && url.pathname === "/api/reviews") {
      const wanted = url.searchParams.get("campaign") ?? options.campaign
      return send(res, 200, { reviews: await options.api.reviews(wanted ?? undefined) })
    }
    if (req.method === "POST" && url.pathname === "/api/claim") {
      const body = await readJson(req)
      const refusal = reviewerIssue(body.reviewer)
      if (refusal) throw new ReviewProblem(400, refusal.code, refusal.message)
      return send(res, 200, await options.api.claim(campaignOf(body, options.campaign), String(body.reviewer).trim()))
    }
    if (req.method === "POST" && url.pathname === "/api/decide") {
      const body = await readJson(req)
      const campaign = campaignOf(body, options.campaign)
      const { campaign: _, ...request } = body
      const refusal = decideRequestIssue(request as unknown as DecideRequest)
      if (refusal) throw new ReviewProblem(400, refusal.code, refusal.message)
      return send(res, 200, await options.api.decide(campaign, request as unknown as DecideRequest))
    }
    throw new ReviewProblem(404, "REVIEW_NO_ROUTE", `no such page: ${req.method} ${url.pathname}`)
  }
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const problem = error instanceof ReviewProblem ? error : new ReviewProblem(500, "REVIEW_FAILED", (error as Error)?.message ?? String(error))
      if (!res.headersSent) send(res, problem.status, { error: { code: problem.code, message: problem.message } })
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
