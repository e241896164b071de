import { Context, Effect, Layer } from "effect"
import type { WinnowError } from "../core/errors.js"
import { canonicalJson } from "../core/hash.js"
import { OpenAIGenerator, type OpenAIServerConfig } from "./openaiGenerator.js"

/** Where the backends report fallbacks (a pino logger fits). */
export interface BackendLog {
  warn(details: Record<string, unknown>, message: string): void
}

/**
 * The HTTP generators of one worker process, one per configured server, created on first use
 * and kept so that concurrency bounds, pooled connections and what was learnt about a server
 * (it rejects `n > 1`) hold across activities. Provide it with `OpenAIBackends.layer(log)`:
 * every pooled connection closes when the worker's scope closes.
 */
export class OpenAIBackends extends Context.Service<OpenAIBackends, {
  /** The generator for this backend configuration; InputInvalid when its API key variable is unset. */
  get(config: OpenAIServerConfig): Effect.Effect<OpenAIGenerator, WinnowError>
}>()("winnow/models/OpenAIBackends") {
  /** The backends of one process, reading API keys from `env`, closed with the layer's scope. */
  static readonly layer = (log: BackendLog, env: NodeJS.ProcessEnv = process.env) =>
    Layer.effect(
      OpenAIBackends,
      Effect.gen(function* () {
        const generators = yield* Effect.acquireRelease(
          Effect.sync(() => new Map<string, OpenAIGenerator>()),
          (open) => Effect.sync(() => {
            for (const generator of open.values()) generator.close()
            open.clear()
          })
        )
        const get = (config: OpenAIServerConfig): Effect.Effect<OpenAIGenerator, WinnowError> => {
          const key = canonicalJson(config)
          const known = generators.get(key)
          if (known) return Effect.succeed(known)
          const server = { base_url: config.base_url, model: config.model }
          return OpenAIGenerator.fromSpec(config, env, {
            onFallback: (reason) => log.warn({ ...server, reason }, "generation server fallback")
          }).pipe(Effect.map((created) => {
            const raced = generators.get(key)
            if (raced) {
              created.close()
              return raced
            }
            generators.set(key, created)
            return created
          }))
        }
        return OpenAIBackends.of({ get })
      })
    )
}
