import { Effect, Stream } from "effect"
import type { RoundStats } from "../campaign/contracts.js"
import type { EvalStats } from "../campaign/evaluation.js"
import type { ReviewSummary, RoundReview } from "../campaign/review.js"
import { roundStats, type StatsRecord } from "../campaign/roundStats.js"
import { scoreHistogram } from "../campaign/roundDistributions.js"
import { DEFAULTS } from "../core/defaults.js"
import { NotFound, type WinnowError } from "../core/errors.js"
import { generatorName } from "../datasets/export/publicNames.js"
import type { Version } from "../datasets/manifest.js"
import type { DatasetRecord } from "../datasets/record.js"
import type { DatasetStoreApi } from "../datasets/store.js"
import type { WorkArea } from "../datasets/workArea.js"
import type { BrowserPrompt, BrowserRound, LineageRow, ReportData, ReportRound, StatsSource } from "./model.js"
import { promptsFromRecords, promptsFromWork, promptTextOf, readRoundWork, statsFromWork } from "./roundWork.js"

/** What a campaign's history says that a report reads (a subset of `CampaignHistory` from `cli/historyLoad.ts`). */
export interface CampaignFacts {
  readonly campaignId: string
  readonly stats: readonly RoundStats[]
  readonly evals: readonly EvalStats[]
  readonly versions: ReadonlyArray<{ readonly round: number; readonly version: string }>
  readonly dataset?: string
  /** What each reviewed round's review found (with `review`); versions' lineage says it too. */
  readonly reviews?: readonly RoundReview[]
}

const keyOf = (campaign: string, round: number) => `${campaign}\u0000${round}`

const campaignOf = (record: DatasetRecord): string => String((record.meta as Record<string, unknown> | undefined)?.campaign ?? "")

/** A round's committed records as the report keeps them: the first few whole (for the browser), every one as statistics read it. */
interface RoundRecords {
  readonly shown: DatasetRecord[]
  readonly stats: StatsRecord[]
}

/** What a version's records tell the report: per (campaign, round) its records, and each prompt id's text. */
interface VersionRecords {
  readonly rounds: Map<string, RoundRecords>
  readonly prompts: Map<string, string>
}

const statsRecordOfRecord = (r: DatasetRecord): StatsRecord =>
  ({ scores: r.scores, score: r.score, text: r.kind === "sft" ? r.response : r.chosen, ...(typeof r.meta?.tokens === "number" ? { tokens: r.meta.tokens } : {}) })

/** Streams a version's records once, keeping at most `limit` whole records per round (memory stays bounded by the texts). */
const recordsByRound = (store: DatasetStoreApi, version: Version, limit: number): Effect.Effect<VersionRecords, WinnowError> =>
  Effect.gen(function* () {
    const rounds = new Map<string, RoundRecords>()
    const prompts = new Map<string, string>()
    yield* Stream.runForEach(store.readRecords(version.manifest), (record) =>
      Effect.sync(() => {
        const key = keyOf(campaignOf(record), record.round)
        const group = rounds.get(key) ?? { shown: [], stats: [] }
        rounds.set(key, group)
        if (group.shown.length < limit) group.shown.push(record)
        group.stats.push(statsRecordOfRecord(record))
        if (!prompts.has(record.prompt_id)) prompts.set(record.prompt_id, promptTextOf(record))
      }))
    return { rounds, prompts }
  })

/** The chain of a version, oldest first, by following parents. */
const chainOf = (store: DatasetStoreApi, version: Version): Effect.Effect<Version[], WinnowError> =>
  Effect.gen(function* () {
    const chain = [version]
    while (chain[0]!.manifest.parent) chain.unshift(yield* store.resolve(`${version.manifest.dataset}@${chain[0]!.manifest.parent}`))
    return chain
  })

/** Lineage rows of a chain, oldest first. */
const lineageOf = (chain: readonly Version[]): LineageRow[] =>
  chain.map((v) => {
    const { counts, lineage } = v.manifest
    return {
      sequence: v.manifest.sequence, version: v.id, campaign: lineage.campaign_id, round: lineage.round, run: lineage.run_id,
      generator: generatorName(lineage.generator), generator_hash: lineage.generator.model_hash,
      ...(lineage.generator.model_id ? { trained_model: lineage.generator.model_id } : {}),
      records: counts.records, added: counts.added, dropped: counts.duplicates_dropped + counts.near_duplicates_dropped + counts.contaminated_dropped,
      ...(lineage.eval ? { pass_at_1: lineage.eval.pass_at_1 } : {}), created: v.manifest.created_at
    }
  })

/** Statistics of a round known only by its committed records: the kept side, with the manifest's counts for acceptance. */
const keptOnlyStats = (round: number, scorers: readonly string[], kept: readonly StatsRecord[], version?: Version): RoundStats => {
  const base = roundStats(round, scorers, [], kept)
  const counted = version?.manifest.lineage.round_stats
  const generated = counted?.generated ?? 0
  const accepted = counted?.accepted ?? kept.length
  const values = (name: string | null) => kept.map((r) => (name === null ? r.score : r.scores[name] ?? Number.NaN))
  const keptHistogram = (name: string | null) => {
    const h = scoreHistogram(values(name), values(name))
    return h && { ...h, all: [] }
  }
  return {
    ...base, samples: generated, prompts: counted?.prompts ?? 0, accepted,
    acceptance_rate: generated > 0 ? Math.round((accepted / generated) * 1e6) / 1e6 : 0,
    histograms: { combined: keptHistogram(null), scores: Object.fromEntries(scorers.map((n) => [n, keptHistogram(n)])) },
    correlations: []
  }
}

const withoutRound = ({ round: _round, ...summary }: RoundReview): ReviewSummary => summary

/** Labels rounds `r<n>`, or `<campaign suffix>·r<n>` when the rounds come from more than one campaign. */
const labeler = (campaigns: readonly string[]) => {
  const several = new Set(campaigns).size > 1
  return (campaign: string, round: number) => (several ? `${campaign.split("-").at(-1)}·r${round}` : `r${round}`)
}

interface RoundPlan {
  readonly campaign: string
  readonly round: number
  readonly version?: Version
  readonly history?: RoundStats
  readonly pass_at_1?: number
  readonly review?: ReviewSummary
}

/** Builds rounds and browser prompts from a plan: work files first, then history, then committed records. */
const assemble = (work: WorkArea, plans: readonly RoundPlan[], scorers: readonly string[], records: VersionRecords) =>
  Effect.gen(function* () {
    const label = labeler(plans.map((p) => p.campaign))
    const rounds: ReportRound[] = []
    const browser: BrowserPrompt[] = []
    const browserRounds: BrowserRound[] = []
    const notes: string[] = []
    for (const plan of plans) {
      const name = label(plan.campaign, plan.round)
      const files = yield* readRoundWork(work, plan.campaign, plan.round)
      const kept = records.rounds.get(keyOf(plan.campaign, plan.round)) ?? { shown: [], stats: [] }
      let stats: RoundStats
      let source: StatsSource
      if (plan.history && (plan.history.histograms || !files)) [stats, source] = [plan.history, "history"]
      else if (files) [stats, source] = [statsFromWork(plan.round, scorers, files), "work files"]
      else [stats, source] = [keptOnlyStats(plan.round, scorers, kept.stats, plan.version), "records"]
      if (source === "history" && !stats.histograms) notes.push(`${name}: this campaign's history predates per-scorer histograms, correlations, lengths and language mix, and its work files are gone.`)
      if (source === "records") notes.push(`${name}: all-sample statistics were not recorded here; the curves show its kept records only.`)
      rounds.push({ label: name, campaign: plan.campaign, round: plan.round, stats, source, ...(plan.version ? { version: plan.version.id } : {}), ...(plan.pass_at_1 !== undefined ? { pass_at_1: plan.pass_at_1 } : {}), ...(plan.review ? { review: plan.review } : {}) })
      const shown = files ? promptsFromWork(name, files, records.prompts, DEFAULTS.reportPromptsPerRound) : promptsFromRecords(name, kept.shown, DEFAULTS.reportPromptsPerRound)
      const total = files ? new Set(files.shards.flatMap((s) => s.scored.map((r) => `${s.shard}/${r.prompt_index}`))).size : kept.stats.length
      browser.push(...shown)
      browserRounds.push({ label: name, all_samples: files !== undefined, prompts: total, shown: shown.length })
    }
    return { rounds, browser: { rounds: browserRounds, prompts: browser }, notes }
  })

const scorersOf = (stats: readonly RoundStats[], chain: readonly Version[]): string[] =>
  [...new Set([...stats.flatMap((s) => Object.keys(s.scores)), ...chain.flatMap((v) => v.manifest.lineage.scorers.map((s) => s.name))])]

/** The versions a campaign committed, across the store's datasets (the one named first when it committed to several). */
const campaignVersions = (store: DatasetStoreApi, facts: CampaignFacts): Effect.Effect<Version[], WinnowError> =>
  Effect.gen(function* () {
    const names = (yield* store.list()).map((d) => d.name).sort((a, b) => (a === facts.dataset ? -1 : b === facts.dataset ? 1 : 0))
    for (const name of names) {
      const chain = yield* store.log(name)
      const mine = chain.filter((v) => v.manifest.lineage.campaign_id === facts.campaignId)
      if (mine.length > 0) return mine
    }
    return []
  })

/**
 * The report of a campaign: its rounds' statistics from its history (or again from kept work
 * files, for histories older than the distributions), its evaluations, the samples of rounds whose
 * work files were kept (else the kept records), and the lineage of its last version.
 */
export const campaignReport = (store: DatasetStoreApi, work: WorkArea, facts: CampaignFacts): Effect.Effect<ReportData, WinnowError> =>
  Effect.gen(function* () {
    const mine = yield* campaignVersions(store, facts)
    const last = mine[0]
    const chain = last ? yield* chainOf(store, last) : []
    const records = last ? yield* recordsByRound(store, last, DEFAULTS.reportPromptsPerRound) : { rounds: new Map<string, RoundRecords>(), prompts: new Map<string, string>() }
    const byRound = new Map(mine.map((v) => [v.manifest.lineage.round, v]))
    const passBefore = new Map(facts.evals.map((e) => [e.round + 1, e.pass_at_1]))
    const rounds = [...new Set([...facts.stats.map((s) => s.round), ...byRound.keys()])].sort((a, b) => a - b)
    const plans: RoundPlan[] = rounds.map((round) => {
      const history = facts.stats.find((s) => s.round === round)
      const version = byRound.get(round)
      const pass = passBefore.get(round)
      const reviewed = facts.reviews?.find((r) => r.round === round)
      const review = reviewed ? withoutRound(reviewed) : version?.manifest.lineage.review
      return { campaign: facts.campaignId, round, ...(history ? { history } : {}), ...(version ? { version } : {}), ...(pass !== undefined ? { pass_at_1: pass } : {}), ...(review ? { review } : {}) }
    })
    const assembled = yield* assemble(work, plans, scorersOf(facts.stats, chain), records)
    return {
      title: `winnow report: campaign ${facts.campaignId}`,
      subject: { kind: "campaign", ref: facts.campaignId, ...(last ? { dataset: last.manifest.dataset, version: last.id } : {}) },
      generated_at: new Date().toISOString(),
      scorers: scorersOf(facts.stats, chain),
      rounds: assembled.rounds,
      evals: facts.evals.map((e) => ({ label: e.round === 0 ? "start" : `after r${e.round}`, pass_at_1: e.pass_at_1 })),
      browser: assembled.browser,
      lineage: lineageOf(chain),
      notes: [...(last ? [] : ["This campaign has committed no version to any dataset of this store."]), ...assembled.notes]
    }
  })

/**
 * The report of a dataset version: one round per version of its chain (statistics again from kept
 * work files, else from the committed records and the manifest's counts), the held-out pass@1
 * each manifest recorded, and the chain's lineage. Needs no Temporal server.
 */
export const datasetReport = (store: DatasetStoreApi, work: WorkArea, ref: string): Effect.Effect<ReportData, WinnowError> =>
  Effect.gen(function* () {
    const version = yield* store.resolve(ref)
    const chain = yield* chainOf(store, version)
    const records = yield* recordsByRound(store, version, DEFAULTS.reportPromptsPerRound)
    const plans: RoundPlan[] = chain.map((v) => ({
      campaign: v.manifest.lineage.campaign_id, round: v.manifest.lineage.round, version: v,
      ...(v.manifest.lineage.eval ? { pass_at_1: v.manifest.lineage.eval.pass_at_1 } : {}),
      ...(v.manifest.lineage.review ? { review: v.manifest.lineage.review } : {})
    }))
    const scorers = scorersOf([], chain)
    const assembled = yield* assemble(work, plans, scorers, records)
    if (chain.length === 0) return yield* Effect.fail(new NotFound({ kind: "dataset version", name: ref, hint: "`winnow dataset log <name>` lists the versions" }))
    return {
      title: `winnow report: ${version.manifest.dataset}@${version.manifest.sequence}`,
      subject: { kind: "dataset", ref, dataset: version.manifest.dataset, version: version.id },
      generated_at: new Date().toISOString(),
      scorers,
      rounds: assembled.rounds,
      evals: assembled.rounds.flatMap((r) => (r.pass_at_1 === undefined ? [] : [{ label: r.label, pass_at_1: r.pass_at_1 }])),
      browser: assembled.browser,
      lineage: lineageOf(chain),
      notes: assembled.notes
    }
  })
