import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { type ArrivalClient, streamEvents } from "./arrivals.js"

/** How the llama.cpp server peer runs: threads for generation and for prompts, slots, context per slot. */
export interface LlamaServerOptions {
  readonly threads: number
  readonly parallel: number
  readonly contextPerSlot: number
  /** Where the server's own log goes (appended). */
  readonly logFile: string
}

/** A llama-server process listening on 127.0.0.1. */
export interface RunningLlamaServer {
  /** e.g. `http://127.0.0.1:41234` (llama-server's native routes sit at the root). */
  readonly url: string
  close(): Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port
      probe.close(() => resolve(port))
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())))

/**
 * Starts llama.cpp's `llama-server` (built by `ensureLlamaCppTools`) on `gguf` the way its users
 * run it for many clients: `--parallel` slots with continuous batching (its default, asked for
 * anyway), `-t`/`-tb` threads, `parallel × contextPerSlot` context. Two defaults that would favour
 * it in a benchmark replaying the same prompts round after round are switched off: the host-memory
 * prompt cache (`--cache-ram 0`) and, per request, `cache_prompt` (see `completionClient`).
 * No web UI. Resolves once `/health` answers 200; use `close` to stop it.
 */
export const startLlamaServer = async (server: string, gguf: string, options: LlamaServerOptions, log: (line: string) => void): Promise<RunningLlamaServer> => {
  const port = await freePort()
  const args = [
    "-m", gguf, "--host", "127.0.0.1", "--port", String(port),
    "-t", String(options.threads), "-tb", String(options.threads),
    "--parallel", String(options.parallel), "--cont-batching", "-c", String(options.parallel * options.contextPerSlot),
    "--cache-ram", "0", "--no-webui"
  ]
  log(`llama-server ${args.join(" ")} (log ${options.logFile})`)
  const fd = openSync(options.logFile, "a")
  const child = spawn(server, args, { stdio: ["ignore", fd, fd] })
  closeSync(fd)
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited(child)
  }
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`llama-server exited (${child.signalCode ?? child.exitCode}) before it was ready; end of ${options.logFile}:\n${readFileSync(options.logFile, "utf8").split("\n").slice(-20).join("\n")}`)
    }
    const healthy = await fetch(`${url}/health`).then((r) => r.status === 200, () => false)
    if (healthy) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`llama-server did not answer /health within 120 s; see ${options.logFile}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { url, close: stop }
}

interface CompletionEvent {
  content?: string
  stop?: boolean
  stop_type?: string
  tokens_evaluated?: number
  tokens_predicted?: number
}

/**
 * A client of llama-server's native `/completion` route, streamed: the prompt goes as the token
 * ids `promptIds(content)` gives (the ids `winnow serve` makes from the same chat message, so
 * both servers prefill exactly the same tokens), with the plan's sampling (top-k then
 * temperature; top-p 1 and min-p 0 so llama-server's defaults of 0.95 and 0.05 do not cut the
 * distribution further than winnow's), `cache_prompt: false`, and stopping at EOS as usual.
 * Token counts come from the final event (`tokens_evaluated`, `tokens_predicted`, `stop_type`).
 */
export const completionClient = (url: string, promptIds: (content: string) => Promise<number[]>): ArrivalClient => async (request, plan) => {
  const prompt = await promptIds(request.content)
  let final: CompletionEvent = {}
  const body = {
    prompt,
    n_predict: request.maxTokens,
    temperature: plan.temperature,
    top_k: plan.topK,
    top_p: 1,
    min_p: 0,
    seed: request.seed,
    stream: true,
    cache_prompt: false
  }
  const times = await streamEvents(`${url}/completion`, body, (e) => ((e as CompletionEvent).content ?? "").length > 0, (e) => {
    if ((e as CompletionEvent).stop === true) final = e as CompletionEvent
  })
  return { ...times, promptTokens: final.tokens_evaluated ?? 0, completionTokens: final.tokens_predicted ?? 0, eos: final.stop_type === "eos" }
}

/**
 * How many of `texts` (rendered prompts) llama-server's own tokenizer (`/tokenize`, special tokens
 * parsed, none added) turns into exactly the ids `encode` gives: a check that the GGUF carries the
 * same tokenizer, so sending ids is what sending the text would have been.
 */
export const tokenizerAgreement = async (url: string, texts: readonly string[], encode: (text: string) => Promise<number[]>): Promise<number> => {
  let same = 0
  for (const text of texts) {
    const response = await fetch(`${url}/tokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: text, add_special: false, parse_special: true }) })
    const theirs = ((await response.json()) as { tokens: number[] }).tokens
    const ours = await encode(text)
    if (theirs.length === ours.length && theirs.every((t, i) => t === ours[i])) same++
  }
  return same
}
