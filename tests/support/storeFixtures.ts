import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import type { Lineage } from "../../datasets/manifest.js"
import { makeRecord, type DpoRecord, type SftRecord } from "../../datasets/record.js"
import { DatasetStore, type DatasetStoreApi } from "../../datasets/store.js"

/** A fresh store in a temp dir; call `cleanup` in `afterEach`. Test-only helper. */
export const tempStore = async (): Promise<{ root: string; store: DatasetStoreApi; cleanup: () => Promise<void> }> => {
  const root = await mkdtemp(join(tmpdir(), "winnow-datasets-"))
  return { root, store: DatasetStore.make(root), cleanup: () => rm(root, { recursive: true, force: true }) }
}

/** An SFT record with its id filled in. Test-only helper. */
export const sft = (prompt: string, response: string, score: number, round = 0): SftRecord =>
  makeRecord({
    kind: "sft",
    prompt_id: `p-${prompt}`,
    messages: [{ role: "system", content: "be brief" }, { role: "user", content: prompt }],
    response,
    score,
    scores: { reward: score, length: response.length },
    round
  })

/** A DPO record with its id filled in. Test-only helper. */
export const dpo = (prompt: string, chosen: string, rejected: string, round = 0): DpoRecord =>
  makeRecord({
    kind: "dpo",
    prompt_id: `p-${prompt}`,
    messages: [{ role: "user", content: prompt }],
    chosen,
    rejected,
    score: 1,
    scores: { reward: 1 },
    score_chosen: 0.9,
    score_rejected: 0.1,
    round
  })

/** A complete lineage for a campaign round. Test-only helper. */
export const lineage = (campaignId: string, round: number, commitKey = `${campaignId}/${round}`): Lineage => ({
  campaign_id: campaignId,
  workflow_id: `wf-${campaignId}`,
  run_id: "run-1",
  round,
  commit_key: commitKey,
  generator: { model: "tiny-lm", model_hash: "abc123", sampling: { temperature: 0.8, top_p: 0.95, n: 4 } },
  scorers: [{ name: "reward", version: "1", config_hash: "cfg1", config: { model: "rm" } }],
  selection: { policy: "best-of-n" },
  winnow_version: "0.1.0"
})

/** Runs an effect and returns its value. Test-only helper. */
export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** Runs an effect that must fail and returns its typed error. Test-only helper. */
export const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(effect))

/** Collects a record stream into an array. Test-only helper. */
export const collect = <A, E>(stream: Stream.Stream<A, E>): Promise<ReadonlyArray<A>> =>
  Effect.runPromise(Stream.runCollect(stream))
