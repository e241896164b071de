import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"

/** An HTTP answer with its whole body read as text. */
export interface HttpReply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** The exchange failed without an HTTP status: refused, reset, timed out or aborted. */
export class TransportError extends Error {
  override readonly name = "TransportError"
  constructor(message: string, readonly timedOut: boolean) {
    super(message)
  }
}

/** One JSON request: method, target, headers, body and the per-attempt time limit. */
export interface JsonRequest {
  readonly method: "GET" | "POST"
  readonly url: URL
  readonly headers?: Record<string, string>
  readonly body?: unknown
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/**
 * Keep-alive connection pools for one server, sized to the client's concurrency. Use one per
 * backend so sockets are reused between requests; idle sockets never keep the process alive.
 */
export class HttpAgents {
  private readonly http: HttpAgent
  private readonly https: HttpsAgent

  constructor(maxSockets: number) {
    this.http = new HttpAgent({ keepAlive: true, maxSockets })
    this.https = new HttpsAgent({ keepAlive: true, maxSockets })
  }

  /**
   * Sends one request and reads the whole answer. Uses `node:http` rather than `fetch` so the
   * only time limit is `timeoutMs` (undici's fetch adds its own header and body timeouts).
   */
  send(request: JsonRequest): Promise<HttpReply> {
    const secure = request.url.protocol === "https:"
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), "utf8")
    const send = secure ? httpsRequest : httpRequest
    return new Promise<HttpReply>((resolve, reject) => {
      if (request.signal?.aborted) return reject(new TransportError("aborted", false))
      const req = send(request.url, {
        method: request.method,
        agent: secure ? this.https : this.http,
        headers: {
          accept: "application/json",
          ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
          ...request.headers
        }
      })
      const timer = setTimeout(() => req.destroy(new TransportError(`no complete answer within ${request.timeoutMs} ms`, true)), request.timeoutMs)
      const onAbort = () => req.destroy(new TransportError("aborted", false))
      request.signal?.addEventListener("abort", onAbort, { once: true })
      const done = () => {
        clearTimeout(timer)
        request.signal?.removeEventListener("abort", onAbort)
      }
      req.on("error", (error) => {
        done()
        reject(error instanceof TransportError ? error : new TransportError(describeSocketError(error), false))
      })
      req.on("response", (res) => {
        const chunks: Buffer[] = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("error", (error) => {
          done()
          reject(error instanceof TransportError ? error : new TransportError(describeSocketError(error), false))
        })
        res.on("end", () => {
          done()
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") })
        })
      })
      req.end(payload)
    })
  }

  /** Closes every pooled socket. */
  close(): void {
    this.http.destroy()
    this.https.destroy()
  }
}

const describeSocketError = (error: Error & { code?: string }): string =>
  error.code ? `${error.code}: ${error.message}` : error.message

/** Longest wait winnow accepts from a `Retry-After` header before trying again anyway. */
export const MAX_RETRY_AFTER_MS = 300_000

/**
 * Milliseconds to wait according to a `Retry-After` header: delay-seconds or an HTTP date
 * (RFC 9110 §10.2.3), capped at `MAX_RETRY_AFTER_MS`. Undefined when absent or unreadable.
 */
export const retryAfterMs = (value: string | string[] | undefined, now = Date.now()): number | undefined => {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (!text) return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(text) * 1000))
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now))
}
