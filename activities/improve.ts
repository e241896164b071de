import { mkdir } from "node:fs/promises"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import type { GeneratorRef, ImproveInput, ImproveResult } from "../campaign/loopContracts.js"
import type { ImproveSpec } from "../campaign/loopSpec.js"
import { attempt, attemptPromise, TrainerFailed, type WinnowError } from "../core/errors.js"
import { canonicalJson, sha256 } from "../core/hash.js"
import { storeIo, writeFileAtomic } from "../datasets/fsio.js"
import type { DatasetRecord } from "../datasets/record.js"
import { readModelDir } from "../models/modelDir.js"
import { modelWeightsHash } from "../models/modelHash.js"
import type { ModelManifest } from "../models/modelStore.js"
import { bundledInvocation, bundledTrainerVersion } from "../trainers/bundled.js"
import { TRAINER_PACKAGES } from "../trainers/packages.js"
import { ensurePythonEnv } from "../trainers/pythonEnv.js"
import { commandInvocation, runTrainer, type TrainerInvocation } from "../trainers/trainerProcess.js"
import { ActivityProgress } from "./boundary.js"
import type { ActivityDeps } from "./deps.js"

/** A record as the trainer reads it: TRL conversational SFT, or DPO with an explicit prompt. */
const trainingRow = (record: DatasetRecord): Record<string, unknown> => {
  const messages = record.messages.map((m) => ({ role: m.role, content: m.content }))
  return record.kind === "sft"
    ? { messages: [...messages, { role: "assistant", content: record.response }] }
    : { prompt: messages, chosen: [{ role: "assistant", content: record.chosen }], rejected: [{ role: "assistant", content: record.rejected }] }
}

/** The records one improve step trains on: this campaign's, of this round or of every round so far. */
const trainingRecords = (deps: ActivityDeps, input: ImproveInput, improve: ImproveSpec) =>
  Effect.gen(function* () {
    const version = yield* deps.store.resolve(`${input.dataset}@${input.version}`)
    const kind = improve.method === "dpo" ? "dpo" : "sft"
    const kept: DatasetRecord[] = []
    yield* Stream.runForEach(deps.store.readRecords(version.manifest), (record) => Effect.sync(() => {
      const campaign = (record.meta as { campaign?: unknown } | undefined)?.campaign
      if (record.kind === kind && campaign === input.campaignId && (improve.data === "all" || record.round === input.round)) kept.push(record)
    }))
    return kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  })

/** What makes a trained model: its base, its data and the trainer with its settings. */
const trainerIdentity = (improve: ImproveSpec) => ({
  kind: improve.trainer,
  ...(improve.trainer === "bundled" ? { method: improve.method, version: bundledTrainerVersion() } : { command: improve.command!, version: "command" }),
  settings: improve.settings ?? {}
})

/**
 * The improve step between rounds: exports the records the round committed (SFT rows or DPO
 * pairs) and has a trainer turn them into the next round's generator, stored content-addressed
 * by (base weights, data, trainer and settings) — the same inputs find the stored model instead
 * of training twice. Checkpoints live in the round's train folder, so after a crash the retried
 * activity resumes the trainer from its last checkpoint. Progress (step, loss) goes out with the
 * heartbeats. A trainer that fails, or writes no loadable model, fails with its last lines of
 * output; nothing half-written is left as a model.
 */
export const improve = (deps: ActivityDeps) => (input: ImproveInput): Effect.Effect<ImproveResult, WinnowError, ActivityProgress> =>
  Effect.gen(function* () {
    const spec = input.spec.improve!
    const log = deps.logger.child({ campaignId: input.campaignId, round: input.round })
    const records = yield* trainingRecords(deps, input, spec)
    if (records.length === 0) {
      log.warn("no records to train on; the next round keeps its generator")
      return { generator: input.previous, reused: true, records: 0, metrics: {} }
    }
    const dir = deps.work.trainDir(input.campaignId, input.round)
    const data = join(dir, spec.method === "dpo" ? "pairs.jsonl" : "data.jsonl")
    const text = records.map((r) => JSON.stringify(trainingRow(r))).join("\n") + "\n"
    yield* storeIo(data, () => writeFileAtomic(data, text))
    const base: GeneratorRef = spec.from === "previous" ? input.previous : input.base
    const trainer = trainerIdentity(spec)
    const id = sha256(canonicalJson({ base: base.model_hash, data: sha256(text), trainer }))
    const stored = yield* deps.models.find(id)
    if (stored) {
      log.info({ model: id.slice(0, 12) }, "reusing the model these inputs already trained")
      return { generator: { path: stored.path, model_hash: stored.manifest.model_hash, model_id: id }, reused: true, records: records.length, metrics: stored.manifest.metrics }
    }
    const progress = yield* ActivityProgress
    const out = deps.models.scratch(id, `${process.pid}-${Date.now()}`)
    const checkpoints = join(dir, "checkpoints")
    yield* storeIo(checkpoints, () => mkdir(checkpoints, { recursive: true }))
    const run: TrainerInvocation = spec.trainer === "bundled"
      ? bundledInvocation({
          python: yield* attemptPromise(() => ensurePythonEnv(TRAINER_PACKAGES, (line) => log.info(line))),
          method: spec.method, base: base.path, data, out, work: checkpoints, settings: spec.settings ?? {}, threads: availableParallelism()
        })
      : commandInvocation(spec.command!, { data, pairs: data, base: base.path, out, work: checkpoints, settings: JSON.stringify(spec.settings ?? {}) })
    log.info({ trainer: run.name, base: base.model_hash.slice(0, 12), records: records.length }, "training the next generator")
    const outcome = yield* attemptPromise((signal) => runTrainer(run, (p) => progress.report({ round: input.round, ...p }), signal)).pipe(
      Effect.tapError(() => deps.models.discard(out)),
      Effect.onInterrupt(() => deps.models.discard(out))
    )
    const model = yield* attempt(() => readModelDir(out, "improve", `trainer ${run.name}`)).pipe(
      Effect.mapError((e) => new TrainerFailed({ trainer: run.name, reason: `it wrote no model winnow can load into its output folder: ${e.message}`, output: outcome.output })),
      Effect.tapError(() => deps.models.discard(out))
    )
    const modelHash = yield* storeIo(model.weightsPath, () => modelWeightsHash(model.weightsPath, model.tokenizerPath))
    const manifest: ModelManifest = {
      format: "winnow.model/1",
      id,
      created_at: new Date().toISOString(),
      model_hash: modelHash,
      base: { path: base.path, model_hash: base.model_hash },
      dataset: { name: input.dataset, version: input.version, records: records.length, data_hash: sha256(text) },
      campaign: { id: input.campaignId, round: input.round },
      trainer: { kind: trainer.kind, ...(spec.trainer === "bundled" ? { method: spec.method } : { command: spec.command! }), settings: trainer.settings, version: trainer.version },
      metrics: outcome.metrics,
      ...(outcome.resumedFrom !== undefined ? { resumed_from_step: outcome.resumedFrom } : {})
    }
    const installed = yield* deps.models.install(out, manifest)
    log.info({ model: id.slice(0, 12), metrics: outcome.metrics, resumedFrom: outcome.resumedFrom }, "trained the next generator")
    return { generator: { path: installed.path, model_hash: installed.manifest.model_hash, model_id: id }, reused: false, records: records.length, metrics: outcome.metrics }
  })
