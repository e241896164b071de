import { existsSync } from "node:fs"
import { Effect, Stream } from "effect"
import { type PromptRecord, recordConversationOf } from "../campaign/prompts.js"
import type { OpenedReview, OpenReviewInput, ReviewItem } from "../campaign/review.js"
import { keptSample, type ScoredRow, type SelectedRow } from "../campaign/rows.js"
import { sha256 } from "../core/hash.js"
import type { WinnowError } from "../core/errors.js"
import { reviewOrderKey } from "../core/seeds.js"
import type { DatasetRecord } from "../datasets/record.js"
import { readPromptSlice, readRows, writeRows } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

const sampleKey = (promptId: string, sampleIndex: number) => `${promptId}\0${sampleIndex}`

/**
 * The `limit` items with the smallest keys seen so far, in key order, holding at most twice
 * `limit` items at any time: a seeded sample drawn in one pass over a round of any size.
 */
const firstByKey = <T extends { readonly id: string }>(limit: number, keyOf: (id: string) => string) => {
  let held: Array<{ key: string; item: T }> = []
  const trim = () => { held = held.sort((a, b) => (a.key < b.key ? -1 : 1)).slice(0, limit) }
  return {
    add: (item: T): void => {
      if (limit === 0) return
      held.push({ key: keyOf(item.id), item })
      if (held.length >= 2 * limit) trim()
    },
    first: (): T[] => {
      trim()
      return held.map((h) => h.item)
    }
  }
}

/** The sample a kept record came from: its own index, or a pair's chosen one. */
const keptIndexOf = (record: DatasetRecord): number | undefined =>
  record.kind === "sft" ? record.sample_index : typeof record.meta?.chosen_sample === "number" ? record.meta.chosen_sample : undefined

/** What the page shows of a sample's scoring: every scorer (null where it gave none), filters, finish. */
const scoringOf = (row: ScoredRow, scorers: readonly string[]) => ({
  score: Number.isFinite(row.score) ? row.score : null,
  scores: Object.fromEntries(scorers.map((name) => [name, row.scores[name] ?? null])),
  passed: row.passed,
  ...(row.failed ? { failed: row.failed } : {}),
  finish: row.finish,
  tokens: row.token_count
})

/** A kept record as a review item, with its sample's scoring when the round's work files still hold it. */
const keptItem = (record: DatasetRecord, shard: number, row: ScoredRow | undefined, scorers: readonly string[]): ReviewItem => ({
  id: record.id,
  kept: true,
  kind: record.kind,
  prompt_id: record.prompt_id,
  shard,
  messages: record.messages,
  response: record.kind === "sft" ? record.response : record.chosen,
  ...(record.kind === "dpo" ? { rejected_response: record.rejected } : {}),
  ...(row
    ? scoringOf(row, scorers)
    : { score: record.score, scores: Object.fromEntries(scorers.map((name) => [name, record.scores[name] ?? null])), passed: true })
})

/**
 * Opens a round's review: draws the seeded sample of `review.sample` records from the round's
 * staging and `review.include_rejected` samples selection did not keep, writes each with its
 * prompt, answer and every scorer's view to the round's review file, and returns their ids and
 * whether the discriminator kept them, in the order reviewers get them. Deterministic, so a retry
 * writes the same file.
 */
export const openReview = (deps: ActivityDeps) => (input: OpenReviewInput): Effect.Effect<OpenedReview, WinnowError> =>
  Effect.gen(function* () {
    const review = input.spec.review!
    const seed = input.spec.generator.seed
    const scorers = input.spec.scorers.map((s) => s.name)
    const order = (id: string) => reviewOrderKey(seed, input.round, id)
    const kept = firstByKey<ReviewItem>(review.sample, order)
    const candidates = firstByKey<{ id: string; shard: number; row: ScoredRow }>(review.include_rejected, order)
    const staged = new Map((yield* deps.store.listStaged(input.campaignId, input.round, 0)).map((s) => [s.shard, s] as const))
    for (const shard of [...new Set([...input.shards, ...staged.keys()])].sort((a, b) => a - b)) {
      const scoredPath = deps.work.shardFile(input.campaignId, input.round, shard, "scored")
      const selectedPath = deps.work.shardFile(input.campaignId, input.round, shard, "selected")
      const rows = existsSync(scoredPath) ? yield* readRows<ScoredRow>(scoredPath) : []
      const scored = new Map(rows.map((row) => [sampleKey(row.prompt_id, row.sample_index), row] as const))
      const selected = new Set(existsSync(selectedPath) ? (yield* readRows<SelectedRow>(selectedPath)).map((row) => sampleKey(row.prompt_id, keptSample(row).sample_index)) : [])
      for (const row of review.include_rejected > 0 ? rows : []) {
        if (!selected.has(sampleKey(row.prompt_id, row.sample_index))) {
          candidates.add({ id: `sample-${sha256(`${input.round}\0${shard}\0${row.prompt_index}\0${row.sample_index}`)}`, shard, row })
        }
      }
      const segment = staged.get(shard)
      for (const record of segment ? yield* Stream.runCollect(deps.store.readStaged(segment)) : []) {
        const index = keptIndexOf(record)
        kept.add(keptItem(record, shard, index === undefined ? undefined : scored.get(sampleKey(record.prompt_id, index)), scorers))
      }
    }
    const rejected: ReviewItem[] = []
    for (const c of candidates.first()) {
      const [prompt] = yield* readPromptSlice<PromptRecord>(deps.work, input.prompts, { start: c.row.prompt_index, end: c.row.prompt_index + 1 })
      const messages = prompt ? recordConversationOf(input.spec.generator.system_prompt, prompt).map((m) => ({ role: m.role, content: m.content })) : []
      rejected.push({ id: c.id, kept: false, kind: "sft", prompt_id: c.row.prompt_id, shard: c.shard, messages, response: c.row.text, ...scoringOf(c.row, scorers) })
    }
    const items = [...kept.first(), ...rejected].sort((a, b) => (order(a.id) < order(b.id) ? -1 : 1))
    const path = deps.work.reviewFile(input.campaignId, input.round)
    yield* writeRows(path, items)
    deps.logger.info({ campaignId: input.campaignId, round: input.round, kept: items.filter((i) => i.kept).length, rejected: rejected.length }, "review opened")
    return { path, items: items.map((i) => ({ id: i.id, kept: i.kept })) }
  })
