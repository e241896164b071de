import { readFile } from "node:fs/promises"
import { Effect, Result } from "effect"
import type { CampaignLineage, PreparedCampaign } from "../campaign/contracts.js"
import type { GeneratorRef } from "../campaign/loopContracts.js"
import { buildEvalIndex, isContaminated } from "../campaign/promptStage/decontamination.js"
import { decodePromptBytes, lastUserTurn, parsePrompts, planShards, type PromptRecord, promptSetOf } from "../campaign/prompts.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { attempt, inputInvalid, type WinnowError } from "../core/errors.js"
import { configHash } from "../core/hash.js"
import { storeIo } from "../datasets/fsio.js"
import { writePromptPages } from "../datasets/workArea.js"
import { readOwnedModelDir } from "../models/modelDir.js"
import { modelWeightsHash } from "../models/modelHash.js"
import { httpModelHash } from "../models/openaiGenerator.js"
import { DEFAULT_ECHO_TEMPLATE, echoModelHash } from "../models/echoGenerator.js"
import { buildScorers } from "../scorers/registry.js"
import type { ActivityDeps } from "./deps.js"

/** The sampling parameters that go into lineage. */
export const samplingOf = (spec: CampaignSpec): Record<string, unknown> => {
  const { model: _model, ...sampling } = spec.generator
  return sampling
}

/**
 * The generator's lineage: a local model's path and weights hash, or for an HTTP backend the
 * served model name and the hash of (base_url, model) — winnow cannot see remote weights; for
 * the echo backend "echo" and the hash of its template.
 */
const generatorLineage = (spec: CampaignSpec): Effect.Effect<CampaignLineage["generator"], WinnowError> =>
  Effect.gen(function* () {
    const { backend, model: path, variant } = spec.generator
    if (backend.type === "openai") return { model: backend.model, model_hash: httpModelHash(backend), sampling: samplingOf(spec) }
    if (backend.type === "echo") return { model: "echo", model_hash: echoModelHash(backend.template ?? DEFAULT_ECHO_TEMPLATE), sampling: samplingOf(spec) }
    const model = yield* attempt(() => readOwnedModelDir(path ?? "", "generator", variant, "spec"))
    const modelHash = yield* storeIo(model.weightsPath, () => modelWeightsHash(model.weightsPath, model.tokenizerPath))
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
    const pageSize = spec.sharding.prompts_per_shard
    const all = yield* readPromptFile(spec.prompts)
    const held = spec.eval ? yield* readPromptFile(spec.eval.prompts) : []
    const evalIndex = buildEvalIndex(held.map((p) => lastUserTurn(p.messages)))
    const prompts = held.length === 0 ? all : all.filter((p) => !isContaminated(lastUserTurn(p.messages), evalIndex))
    if (prompts.length === 0) {
      return yield* Effect.fail(inputInvalid(spec.prompts, "prompts", `${all.length} prompts`, "training prompts that are not all near-copies of eval.prompts (every one overlaps a held-out prompt)"))
    }
    const promptSet = yield* storePromptSet(deps, prompts, pageSize)
    const evalSet = held.length > 0 ? yield* storePromptSet(deps, held, pageSize) : undefined
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
    const trainBase = spec.improve?.base === undefined ? undefined : yield* modelRef(spec.improve.base, "improve")
    if (all.length > prompts.length) deps.logger.warn({ campaignId: input.campaignId, dropped: all.length - prompts.length }, "training prompts that overlap eval prompts were left out")
    return {
      prompts: promptSet,
      shards: planShards(prompts.length, pageSize),
      lineage,
      ...(evalSet ? { evalPrompts: evalSet, evalShards: planShards(evalSet.count, pageSize), decontaminated: all.length - prompts.length } : {}),
      ...(trainBase ? { trainBase } : {})
    }
  })

/** A model directory's path and weights hash. */
const modelRef = (path: string, owner: string): Effect.Effect<GeneratorRef, WinnowError> =>
  attempt(() => readOwnedModelDir(path, owner, undefined, "spec")).pipe(
    Effect.flatMap((model) => storeIo(model.weightsPath, () => modelWeightsHash(model.weightsPath, model.tokenizerPath))),
    Effect.map((model_hash) => ({ path, model_hash }))
  )

const readPromptFile = (path: string): Effect.Effect<PromptRecord[], WinnowError> =>
  storeIo(path, () => readFile(path)).pipe(Effect.flatMap((bytes) => {
    const parsed = Result.flatMap(decodePromptBytes(bytes, path), (text) => parsePrompts(text, path))
    return Result.isSuccess(parsed) ? Effect.succeed(parsed.success) : Effect.fail(parsed.failure)
  }))

/** Writes a prompt set content-addressed, cut into pages of `pageSize` (one per planned shard). */
const storePromptSet = (deps: ActivityDeps, prompts: readonly PromptRecord[], pageSize: number) => {
  const set = promptSetOf(prompts, pageSize)
  return writePromptPages(deps.work, set, prompts).pipe(Effect.as(set))
}
