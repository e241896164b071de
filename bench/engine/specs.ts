import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { stringify } from "yaml"
import { repoRoot } from "../../tests/support/faults.js"

/** How a benchmark campaign is cut into shards: prompts per shard and shards in flight. */
export interface Sharding {
  readonly prompts_per_shard: number
  readonly max_concurrent_shards: number
}

/**
 * The engine campaign: the echo backend (no model), N samples per prompt, the heuristic quality
 * scorer, best-of-N keeping one, default dedup at commit. Written to `dir/<name>.yaml`.
 */
export const writeEchoSpec = (dir: string, name: string, prompts: string, n: number, maxNewTokens: number, sharding: Sharding): string => {
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify({
    name,
    prompts,
    generator: { backend: { type: "echo" }, n, max_new_tokens: maxNewTokens },
    scorers: [{ name: "quality", type: "heuristic", metric: "quality" }],
    selection: { policy: "best_of_n", k: 1 },
    sharding,
    output: { dataset: "engine" }
  }))
  return path
}

/**
 * A real tiny-model campaign: the demo's bundled tiny chat model generating N samples of up to
 * `maxNewTokens` tokens, scored by the bundled tiny reward model and the quality heuristic,
 * best-of-N. Written to `dir/<name>.yaml`.
 */
export const writeTinyModelSpec = (dir: string, name: string, prompts: string, n: number, maxNewTokens: number, sharding: Sharding): string => {
  const path = join(dir, `${name}.yaml`)
  writeFileSync(path, stringify({
    name,
    prompts,
    generator: { model: join(repoRoot, "examples/models/tiny-chat"), n, max_new_tokens: maxNewTokens, temperature: 0.9, top_p: 0.95, top_k: 40, seed: 20261202 },
    scorers: [
      { name: "reward", type: "classifier", model: join(repoRoot, "examples/models/tiny-reward"), weight: 1 },
      { name: "quality", type: "heuristic", metric: "quality", target_chars: 24, weight: 2 }
    ],
    selection: { policy: "best_of_n", k: 1 },
    sharding,
    output: { dataset: "tiny" }
  }))
  return path
}
