import type { RoundStats } from "../campaign/contracts.js"
import type { ReviewSummary } from "../campaign/review.js"

/**
 * What `winnow report` puts in a page: plain data, embedded as JSON in `index.html` and drawn
 * into the charts. Built by `report/sources.ts` from a campaign's history or a version's
 * manifests, plus the work files and records the store still holds.
 */

/** Where a round's statistics came from: the campaign's history, its kept work files, or only its committed records. */
export type StatsSource = "history" | "work files" | "records"

/** One round of one campaign in the report. */
export interface ReportRound {
  /** Label on chart axes: `r3`, or `<campaign>·r3` when the report spans several campaigns. */
  readonly label: string
  readonly campaign: string
  readonly round: number
  /** The version this round committed, when the report knows it. */
  readonly version?: string
  /** The round's statistics; with `source: "records"` only the kept side is known (all-sample fields are null or empty). */
  readonly stats: RoundStats
  readonly source: StatsSource
  /** Held-out pass@1 of the generator that sampled this round, when it was evaluated. */
  readonly pass_at_1?: number
  /** What reviewers decided before the round committed (with the campaign's `review` gate). */
  readonly review?: ReviewSummary
}

/** One sample in the browser, with its scores, whether selection kept it, and its language. */
export interface BrowserSample {
  readonly index: number
  readonly text: string
  readonly lang: string
  readonly score: number | null
  readonly scores: Readonly<Record<string, number | null>>
  readonly kept: boolean
  readonly passed: boolean
  readonly finish?: string
  readonly tokens?: number
  /** In a preference pair: which side this sample was. */
  readonly pair?: "chosen" | "rejected"
}

/** One prompt of one round in the browser, with its samples side by side. */
export interface BrowserPrompt {
  readonly round: string
  readonly prompt_id: string
  /** The prompt's last user turn (empty when no committed record names it). */
  readonly prompt: string
  readonly lang: string
  /** True when every sample of the prompt is shown (the round's work files were kept). */
  readonly all_samples: boolean
  readonly samples: readonly BrowserSample[]
}

/** How much of a round the browser shows and why. */
export interface BrowserRound {
  readonly label: string
  readonly all_samples: boolean
  readonly prompts: number
  readonly shown: number
}

/** One version of the lineage chain, oldest first. */
export interface LineageRow {
  readonly sequence: number
  readonly version: string
  readonly campaign: string
  readonly round: number
  readonly run: string
  readonly generator: string
  readonly generator_hash: string
  readonly trained_model?: string
  readonly records: number
  readonly added: number
  readonly dropped: number
  readonly pass_at_1?: number
  readonly created: string
}

/** A held-out evaluation point: which generator (label) and its pass@1. */
export interface EvalPoint {
  readonly label: string
  readonly pass_at_1: number
}

/** Everything one report shows. */
export interface ReportData {
  readonly title: string
  readonly subject: { readonly kind: "campaign" | "dataset"; readonly ref: string; readonly dataset?: string; readonly version?: string }
  readonly generated_at: string
  readonly scorers: readonly string[]
  readonly rounds: readonly ReportRound[]
  readonly evals: readonly EvalPoint[]
  readonly browser: { readonly rounds: readonly BrowserRound[]; readonly prompts: readonly BrowserPrompt[] }
  readonly lineage: readonly LineageRow[]
  /** Things the reader should know (rounds whose samples were not kept, statistics missing from old histories). */
  readonly notes: readonly string[]
}
