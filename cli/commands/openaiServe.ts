import { availableParallelism } from "node:os"
import { basename, resolve } from "node:path"
import type { Logger } from "pino"
import { DEFAULTS, LIMITS } from "../../core/defaults.js"
import { inputInvalid } from "../../core/errors.js"
import { poolWithThreads } from "../../models/inferencePool.js"
import { variantOf } from "../../models/modelDir.js"
import { SERVE_BATCHING, type ServeBatching, startServe } from "../../serve/server.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { printJson } from "../output.js"

const wholeNumber = (command: Command, name: string, value: unknown, fallback: number, min: number, max: number): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: got ${JSON.stringify(value)}, expected a whole number from ${min} to ${max}`, helpOf(command))
  return n
}

const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"))
    process.once("SIGTERM", () => resolve("SIGTERM"))
  })

/**
 * `winnow serve <model-dir>`: the local generator behind an OpenAI-compatible HTTP API
 * (`POST /v1/chat/completions`, `GET /v1/models`, `GET /health`) until SIGINT/SIGTERM.
 */
export const openaiServeCommand = (log: Logger): Command => {
  const command: Command = {
    name: "serve",
    summary: "Serve a local chat model (ONNX, or GGUF with --variant gguf:<name>) over an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models, GET /health) until interrupted.",
    usage: "serve <model-dir> [--variant <name>] [--port <n>] [--host <addr>] [--threads <n>] [--name <id>] [--max-tokens <n>] [--batching continuous|static|off] [--no-batch] [--json]",
    options: {
      variant: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      threads: { type: "string" },
      name: { type: "string" },
      "max-tokens": { type: "string" },
      batching: { type: "string" },
      "no-batch": { type: "boolean" },
      json: { type: "boolean" }
    },
    descriptions: {
      variant: "which ONNX file to serve: fp16 loads onnx/model_fp16.onnx (also q4, q4f16, quantized, …; default onnx/model.onnx)",
      port: `HTTP port (default ${DEFAULTS.serve.port}; 0 picks a free one)`,
      host: `address to listen on (default ${DEFAULTS.serve.host}; 0.0.0.0 for every interface)`,
      threads: "inference threads (default 1); the model is copied onto as many as WINNOW_MODEL_MEMORY_GIB holds, the cores shared among the copies",
      name: "model id clients send and /v1/models lists (default: the directory name)",
      "max-tokens": `max_tokens when a request gives none (default ${DEFAULTS.serve.max_tokens}, bounded by the context left)`,
      batching: "continuous (default): a request that arrives while a batch decodes joins it at the next step; static: it waits for the batch to end and leaves with the next one; off: every request decodes on its own",
      "no-batch": "the same as --batching off: decode every request on its own (by default concurrent requests share one batch, each keeping its own sampling parameters; a seeded request is then reproducible only when it runs alone)",
      json: "print {\"url\",\"model\"} as one JSON line once listening"
    },
    positionals: { min: 1, max: 1 },
    run: async (args) => {
      const config = readCliConfig(process.env)
      const modelDir = resolve(args.positionals[0]!)
      const port = wholeNumber(command, "port", args.values.port, DEFAULTS.serve.port, 0, 65535)
      const threads = wholeNumber(command, "threads", args.values.threads, 1, 1, availableParallelism())
      const maxTokens = wholeNumber(command, "max-tokens", args.values["max-tokens"], DEFAULTS.serve.max_tokens, 1, LIMITS.maxNewTokens)
      const host = (args.values.host as string | undefined) ?? DEFAULTS.serve.host
      const name = (args.values.name as string | undefined) ?? basename(modelDir)
      if (name.length === 0) throw new UsageError("--name: got \"\", expected a model id", helpOf(command))
      const server = await startServe({
        modelDir,
        ...variantOf({ variant: args.values.variant as string | undefined }),
        batching: batchingOf(command, args.values.batching as string | undefined, args.values["no-batch"] === true),
        name,
        host,
        port,
        pool: poolWithThreads(threads, config.modelMemoryBytes),
        defaultMaxTokens: maxTokens,
        log
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE") throw inputInvalid("winnow serve", "--port", port, `a free port (${host}:${port} is in use)`)
        if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") throw inputInvalid("winnow serve", "--host", host, "an address of this machine")
        throw error
      })
      if (args.values.json === true) printJson({ url: server.url, model: server.model })
      else process.stdout.write(`Serving ${server.model} at ${server.url}\nPress Ctrl+C to stop.\n`)
      const signal = await untilSignal()
      log.info({ signal }, "shutting down server")
      await server.close()
      return 0
    }
  }
  return command
}

/** `--batching` (or `--no-batch`, which means off), checked. */
const batchingOf = (command: Command, value: string | undefined, noBatch: boolean): ServeBatching => {
  if (value === undefined) return noBatch ? "off" : "continuous"
  if (!SERVE_BATCHING.includes(value as ServeBatching)) throw new UsageError(`--batching: got ${JSON.stringify(value)}, expected one of ${SERVE_BATCHING.join(", ")}`, helpOf(command))
  if (noBatch && value !== "off") throw new UsageError(`--no-batch: conflicts with --batching ${value}`, helpOf(command))
  return value as ServeBatching
}
