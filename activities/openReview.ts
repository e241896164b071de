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

const sampleKey = (shard: number, promptId: string, sampleIndex: number) => `${shard}\0${promptId}\0${sampleIndex}`

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
    const byOrder = <T extends { readonly id: string }>(items: T[]) => items.sort((a, b) => (order(a.id) < order(b.id) ? -1 : 1))

    const scored = new Map<string, ScoredRow>()
    const selected = new Set<string>()
    const candidates: Array<{ id: string; shard: number; row: ScoredRow }> = []
    for (const shard of input.shards) {
      const scoredPath = deps.work.shardFile(input.campaignId, input.round, shard, "scored")
      const selectedPath = deps.work.shardFile(input.campaignId, input.round, shard, "selected")
      if (!existsSync(scoredPath)) continue
      const rows = yield* readRows<ScoredRow>(scoredPath)
      for (const row of rows) scored.set(sampleKey(shard, row.prompt_id, row.sample_index), row)
      if (existsSync(selectedPath)) {
        for (const row of yield* readRows<SelectedRow>(selectedPath)) selected.add(sampleKey(shard, row.prompt_id, keptSample(row).sample_index))
      }
      if (review.include_rejected > 0) {
        for (const row of rows) {
          if (selected.has(sampleKey(shard, row.prompt_id, row.sample_index))) continue
          candidates.push({ id: `sample-${sha256(`${input.round}\0${shard}\0${row.prompt_index}\0${row.sample_index}`)}`, shard, row })
        }
      }
    }

    const kept: ReviewItem[] = []
    for (const segment of yield* deps.store.listStaged(input.campaignId, input.round, 0)) {
      const records = yield* Stream.runCollect(deps.store.readStaged(segment))
      for (const record of records) {
        const index = keptIndexOf(record)
        const row = index === undefined ? undefined : scored.get(sampleKey(segment.shard, record.prompt_id, index))
        kept.push(keptItem(record, segment.shard, row, scorers))
      }
    }
    const rejected: ReviewItem[] = []
    for (const c of byOrder(candidates).slice(0, review.include_rejected)) {
      const [prompt] = yield* readPromptSlice<PromptRecord>(deps.work, input.prompts, { start: c.row.prompt_index, end: c.row.prompt_index + 1 })
      const messages = prompt ? recordConversationOf(input.spec.generator.system_prompt, prompt).map((m) => ({ role: m.role, content: m.content })) : []
      rejected.push({ id: c.id, kept: false, kind: "sft", prompt_id: c.row.prompt_id, shard: c.shard, messages, response: c.row.text, ...scoringOf(c.row, scorers) })
    }
    const items = byOrder([...byOrder(kept).slice(0, review.sample), ...rejected])
    const path = deps.work.reviewFile(input.campaignId, input.round)
    yield* writeRows(path, items)
    deps.logger.info({ campaignId: input.campaignId, round: input.round, kept: items.filter((i) => i.kept).length, rejected: rejected.length }, "review opened")
    return { path, items: items.map((i) => ({ id: i.id, kept: i.kept })) }
  })
