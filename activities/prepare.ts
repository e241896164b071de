import { readFile } from "node:fs/promises"
import { Effect, Result } from "effect"
import type { CampaignLineage, PreparedCampaign } from "../campaign/contracts.js"
import { parsePrompts, planShards } from "../campaign/prompts.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { type WinnowError } from "../core/errors.js"
import { canonicalJson, configHash, sha256 } from "../core/hash.js"
import { storeIo, writeFileAtomic } from "../datasets/fsio.js"
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
    const model = yield* Effect.try({ try: () => readOwnedModelDir(path ?? "", "generator", variant, "spec"), catch: (e) => e as WinnowError })
    const modelHash = yield* storeIo(model.onnxPath, () => modelWeightsHash(model.onnxPath, model.tokenizerPath))
    return { model: path ?? model.path, model_hash: modelHash, sampling: samplingOf(spec) }
  })

/**
 * Snapshots the prompt file into the store (content-addressed, so every worker and every retry
 * reads the same prompts), plans the shards and records the campaign's lineage.
 */
export const prepare = (deps: ActivityDeps) => (input: { campaignId: string; spec: CampaignSpec }): Effect.Effect<PreparedCampaign, WinnowError> =>
  Effect.gen(function* () {
    const { spec } = input
    const text = yield* storeIo(spec.prompts, () => readFile(spec.prompts, "utf8"))
    const parsed = parsePrompts(text, spec.prompts)
    if (Result.isFailure(parsed)) return yield* Effect.fail(parsed.failure)
    const prompts = parsed.success
    const snapshot = prompts.map((p) => canonicalJson(p)).join("\n") + "\n"
    const promptsRef = sha256(snapshot)
    const path = deps.work.promptsPath(promptsRef)
    yield* storeIo(path, () => writeFileAtomic(path, snapshot))
    const generator = yield* generatorLineage(spec)
    const scorers = buildScorers(spec.scorers, deps.pool)
    const lineage: CampaignLineage = {
      generator,
      scorers: scorers.map((s) => ({ name: s.name, version: s.version, config_hash: configHash({ type: s.type, version: s.version, weight: s.weight, ...s.config }), config: { type: s.type, weight: s.weight, ...s.config } })),
      selection: { ...spec.selection },
      prompts: { ref: promptsRef, count: prompts.length },
      spec_hash: configHash(spec),
      dedup: spec.output.dedup
    }
    return {
      promptsRef,
      promptCount: prompts.length,
      shards: planShards(prompts.length, spec.sharding.prompts_per_shard),
      lineage
    }
  })
