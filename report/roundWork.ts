import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import type { RoundStats } from "../campaign/contracts.js"
import { roundStats, statsRecordOf, statsSampleOf } from "../campaign/roundStats.js"
import { isPair, type ScoredRow, type SelectedRow } from "../campaign/rows.js"
import type { StoreCorrupt, StoreIoFailed } from "../core/errors.js"
import { detectLanguage } from "../core/text.js"
import { readRows, type WorkArea } from "../datasets/workArea.js"
import type { DatasetRecord } from "../datasets/record.js"
import type { BrowserPrompt, BrowserSample } from "./model.js"

/** A round's work files as kept by `output.keep_work`: every scored sample and what selection kept, by shard. */
export interface RoundWork {
  readonly shards: ReadonlyArray<{ readonly shard: number; readonly scored: readonly ScoredRow[]; readonly selected: readonly SelectedRow[] }>
}

/**
 * Reads a committed round's work files, or undefined when they are gone (the default: a round's
 * work files are deleted once it commits). Use it before falling back to committed records.
 */
export const readRoundWork = (work: WorkArea, campaignId: string, round: number): Effect.Effect<RoundWork | undefined, StoreIoFailed | StoreCorrupt> =>
  Effect.gen(function* () {
    const dir = work.roundDir(campaignId, round)
    if (!existsSync(dir)) return undefined
    const shardIds = readdirSync(dir).flatMap((name) => (/^s\d+$/.test(name) ? [Number(name.slice(1))] : [])).sort((a, b) => a - b)
    const shards = []
    for (const shard of shardIds) {
      const scoredPath = join(dir, `s${shard}`, "scored.jsonl")
      if (!existsSync(scoredPath)) continue
      const selectedPath = join(dir, `s${shard}`, "selected.jsonl")
      shards.push({
        shard,
        scored: yield* readRows<ScoredRow>(scoredPath),
        selected: existsSync(selectedPath) ? yield* readRows<SelectedRow>(selectedPath) : []
      })
    }
    return shards.length === 0 ? undefined : { shards }
  })

/** A round's statistics computed again from its work files, exactly as the `roundStats` activity computes them. */
export const statsFromWork = (round: number, scorers: readonly string[], work: RoundWork): RoundStats =>
  roundStats(
    round,
    scorers,
    work.shards.flatMap((s) => s.scored.map(statsSampleOf)),
    work.shards.flatMap((s) => s.selected.map(statsRecordOf))
  )

/** The HTML `lang` of a text: `zh`, `ja`, `ko`, `en` for other letters, `und` without letters. */
export const langOf = (text: string): string => {
  const language = detectLanguage(text)
  return language === "latin" ? "en" : language === "none" ? "und" : language
}

/** The text a prompt is shown by: the last user turn of a record's conversation. */
export const promptTextOf = (record: DatasetRecord): string =>
  [...record.messages].reverse().find((m) => m.role === "user")?.content ?? ""

/**
 * The browser's prompts of a round from its work files: every sample of each prompt side by side,
 * the kept ones (or a pair's chosen and rejected) marked. `prompts` maps prompt ids to their text;
 * `limit` bounds how many prompts are returned (in shard and prompt order).
 */
export const promptsFromWork = (label: string, work: RoundWork, prompts: ReadonlyMap<string, string>, limit: number): BrowserPrompt[] => {
  const out: BrowserPrompt[] = []
  for (const { scored, selected } of work.shards) {
    const roles = new Map<string, "kept" | "chosen" | "rejected">()
    for (const row of selected) {
      if (isPair(row)) {
        roles.set(`${row.prompt_index}/${row.chosen.sample_index}`, "chosen")
        roles.set(`${row.prompt_index}/${row.rejected.sample_index}`, "rejected")
      } else roles.set(`${row.prompt_index}/${row.sample_index}`, "kept")
    }
    const groups = new Map<number, ScoredRow[]>()
    for (const row of scored) {
      const group = groups.get(row.prompt_index)
      if (group) group.push(row)
      else groups.set(row.prompt_index, [row])
    }
    for (const rows of groups.values()) {
      if (out.length >= limit) return out
      const first = rows[0]!
      const text = prompts.get(first.prompt_id) ?? ""
      const samples: BrowserSample[] = [...rows].sort((a, b) => a.sample_index - b.sample_index).map((row) => {
        const role = roles.get(`${row.prompt_index}/${row.sample_index}`)
        return {
          index: row.sample_index, text: row.text, lang: langOf(row.text), score: Number.isFinite(row.score) ? row.score : null, scores: row.scores,
          kept: role === "kept" || role === "chosen", passed: row.passed, finish: row.finish, tokens: row.token_count,
          ...(role === "chosen" || role === "rejected" ? { pair: role } : {})
        }
      })
      out.push({ round: label, prompt_id: first.prompt_id, prompt: text, lang: langOf(text), all_samples: true, samples })
    }
  }
  return out
}

/** The browser's prompts of a round whose work files are gone: only its committed records (the kept samples). */
export const promptsFromRecords = (label: string, records: readonly DatasetRecord[], limit: number): BrowserPrompt[] =>
  records.slice(0, limit).map((record) => {
    const prompt = promptTextOf(record)
    const meta = (record.meta ?? {}) as Record<string, unknown>
    const sample = (text: string, index: number, score: number | null, scores: Record<string, number | null>, kept: boolean, pair?: "chosen" | "rejected"): BrowserSample => ({
      index, text, lang: langOf(text), score, scores, kept, passed: true, ...(pair ? { pair } : {}),
      ...(typeof meta.finish === "string" ? { finish: meta.finish } : {}), ...(typeof meta.tokens === "number" ? { tokens: meta.tokens } : {})
    })
    const samples = record.kind === "sft"
      ? [sample(record.response, record.sample_index ?? 0, record.score, record.scores, true)]
      : [
        sample(record.chosen, Number(meta.chosen_sample ?? 0), record.score_chosen ?? record.score, record.scores, true, "chosen"),
        sample(record.rejected, Number(meta.rejected_sample ?? 1), record.score_rejected ?? null, (meta.rejected_scores ?? {}) as Record<string, number | null>, false, "rejected")
      ]
    return { round: label, prompt_id: record.prompt_id, prompt, lang: langOf(prompt), all_samples: false, samples }
  })
