import { readFile } from "node:fs/promises"
import { Effect, Result } from "effect"
import type { CampaignLineage, PreparedCampaign } from "../campaign/contracts.js"
import { parsePrompts, planShards } from "../campaign/prompts.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { attempt, type WinnowError } from "../core/errors.js"
import { canonicalJson, configHash, sha256 } from "../core/hash.js"
import { storeIo } from "../datasets/fsio.js"
import { writePromptPages } from "../datasets/workArea.js"
import { readOwnedModelDir } from "../models/modelDir.js"
import { modelWeightsHash } from "../models/modelHash.js"
import { httpModelHash } from "../models/openaiGenerator.js"
import { buildScorers } from "../scorers/registry.js"
import type { ActivityDeps } from "./deps.js"

/** The sampling parameters that go into lineage. */
export const samplingOf = (spec: CampaignSpec): Record<string, unknown> => {
  const { model: _model, ...sampling } = spec.generator
  return sampling
}

/**
 * The generator's lineage: a local model's path and weights hash, or for an HTTP backend the
 * served model name and the hash of (base_url, model) — winnow cannot see remote weights.
 */
const generatorLineage = (spec: CampaignSpec): Effect.Effect<CampaignLineage["generator"], WinnowError> =>
  Effect.gen(function* () {
    const { backend, model: path, variant } = spec.generator
    if (backend.type === "openai") return { model: backend.model, model_hash: httpModelHash(backend), sampling: samplingOf(spec) }
    const model = yield* attempt(() => readOwnedModelDir(path ?? "", "generator", variant, "spec"))
    const modelHash = yield* storeIo(model.onnxPath, () => modelWeightsHash(model.onnxPath, model.tokenizerPath))
    return { model: path ?? model.path, model_hash: modelHash, sampling: samplingOf(spec) }
  })

/**
 * Snapshots the prompt file into the store, content-addressed and cut into one page per planned
 * shard (so every worker and every retry reads the same prompts, and each shard only its own),
 * plans the shards and records the campaign's lineage.
 */
export const prepare = (deps: ActivityDeps) => (input: { campaignId: string; spec: CampaignSpec }): Effect.Effect<PreparedCampaign, WinnowError> =>
  Effect.gen(function* () {
    const { spec } = input
    const text = yield* storeIo(spec.prompts, () => readFile(spec.prompts, "utf8"))
    const parsed = parsePrompts(text, spec.prompts)
    if (Result.isFailure(parsed)) return yield* Effect.fail(parsed.failure)
    const prompts = parsed.success
    const promptSet = {
      ref: sha256(prompts.map((p) => canonicalJson(p)).join("\n") + "\n"),
      count: prompts.length,
      pageSize: spec.sharding.prompts_per_shard
    }
    yield* writePromptPages(deps.work, promptSet, prompts)
    const generator = yield* generatorLineage(spec)
    const scorers = buildScorers(spec.scorers, deps.pool)
    const lineage: CampaignLineage = {
      generator,
      scorers: scorers.map((s) => ({ name: s.name, version: s.version, config_hash: configHash({ type: s.type, version: s.version, weight: s.weight, ...s.config }), config: { type: s.type, weight: s.weight, ...s.config } })),
      selection: { ...spec.selection },
      prompts: { ref: promptSet.ref, count: prompts.length },
      spec_hash: configHash(spec),
      dedup: spec.output.dedup
    }
    return {
      prompts: promptSet,
      shards: planShards(prompts.length, spec.sharding.prompts_per_shard),
      lineage
    }
  })
