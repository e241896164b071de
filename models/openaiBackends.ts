import { Effect } from "effect"
import type { WinnowError } from "../core/errors.js"
import { canonicalJson } from "../core/hash.js"
import { OpenAIGenerator, type OpenAIServerConfig } from "./openaiGenerator.js"

/** Where the backends report retries and fallbacks (a pino logger fits). */
export interface BackendLog {
  warn(details: Record<string, unknown>, message: string): void
}

/**
 * The HTTP generators of one worker process, one per configured server, created on first use
 * and kept so that concurrency bounds, pooled connections and what was learnt about a server
 * (it rejects `n > 1`) hold across activities.
 */
export class OpenAIBackends {
  private readonly generators = new Map<string, OpenAIGenerator>()

  constructor(private readonly log: BackendLog, private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The generator for this backend configuration; InputInvalid when its API key variable is unset. */
  get(config: OpenAIServerConfig): Effect.Effect<OpenAIGenerator, WinnowError> {
    const key = canonicalJson(config)
    const known = this.generators.get(key)
    if (known) return Effect.succeed(known)
    const server = { base_url: config.base_url, model: config.model }
    return OpenAIGenerator.fromSpec(config, this.env, {
      onFallback: (reason) => this.log.warn({ ...server, reason }, "server does not sample n choices per request")
    }).pipe(
      Effect.map((created) => {
        const raced = this.generators.get(key)
        if (raced) {
          created.close()
          return raced
        }
        this.generators.set(key, created)
        return created
      })
    )
  }

  /** Closes every generator's pooled connections. */
  close(): void {
    for (const generator of this.generators.values()) generator.close()
    this.generators.clear()
  }
}
