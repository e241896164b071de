import type { CampaignProgress } from "../campaign/contracts.js"
import type { BudgetSpec } from "../campaign/budgetSpec.js"

/** One reading of a running campaign for `campaign watch`: its progress plus what the watcher derives. */
export interface WatchFrame {
  readonly at: string
  readonly progress: CampaignProgress
  /** Samples generated per second since the previous reading with a change (undefined at first). */
  readonly samplesPerSecond?: number
  readonly acceptance: number | null
  /** Seconds left at the recent shard rate, over this round and the rounds after it. */
  readonly etaSeconds?: number
  /** What each budget of the spec has left (seconds: wall clock since the campaign started). */
  readonly budgetLeft?: Partial<Record<keyof BudgetSpec, number>>
}

/** A reading of the campaign's progress with the clock time it was taken at. */
export interface Reading {
  readonly at: number
  readonly progress: CampaignProgress
}

/**
 * Derives a frame from the readings so far (oldest first, the newest last): sample rate over the
 * last minute of readings, acceptance, ETA from the shard rate, budget left.
 */
export const frameOf = (readings: readonly Reading[], budget: BudgetSpec | undefined): WatchFrame => {
  const now = readings.at(-1)!
  const p = now.progress
  const window = readings.filter((r) => r.at >= now.at - 60_000 && r.progress.round === p.round)
  const first = window[0]!
  const dt = (now.at - first.at) / 1000
  const samplesPerSecond = dt > 0 ? (p.generated - first.progress.generated) / dt : undefined
  const shardRate = dt > 0 ? (p.shardsDone - first.progress.shardsDone) / dt : 0
  const shardsLeft = Math.max(0, p.shardsTotal - p.shardsDone) + Math.max(0, p.rounds - p.round) * p.shardsTotal
  const etaSeconds = shardRate > 0 ? Math.round(shardsLeft / shardRate) : undefined
  const spent = p.spent
  const elapsed = p.startedAt ? (now.at - Date.parse(p.startedAt)) / 1000 : undefined
  const left: Partial<Record<keyof BudgetSpec, number>> = {}
  if (budget?.samples !== undefined) left.samples = budget.samples - (spent?.samples ?? p.generated)
  if (budget?.tokens !== undefined) left.tokens = budget.tokens - (spent?.tokens ?? 0)
  if (budget?.usd !== undefined) left.usd = Math.round((budget.usd - (spent?.usd ?? 0)) * 1e6) / 1e6
  if (budget?.seconds !== undefined && elapsed !== undefined) left.seconds = Math.round(budget.seconds - elapsed)
  return {
    at: new Date(now.at).toISOString(),
    progress: p,
    ...(samplesPerSecond !== undefined ? { samplesPerSecond: Math.round(samplesPerSecond * 10) / 10 } : {}),
    acceptance: p.generated > 0 ? Math.round((p.accepted / p.generated) * 1000) / 1000 : null,
    ...(etaSeconds !== undefined ? { etaSeconds } : {}),
    ...(Object.keys(left).length > 0 ? { budgetLeft: left } : {})
  }
}

const bar = (fraction: number, width = 24): string => {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)))
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
}

const duration = (s: number): string => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`)

/** The lines `campaign watch` draws for a frame: a header, one bar per round, rates, ETA and budget left. */
export const watchLines = (f: WatchFrame): string[] => {
  const p = f.progress
  const header = `${p.campaignId}  ${p.status}${p.paused ? " (paused)" : ""}${p.phase ? `  ${p.phase}` : ""}  round ${p.round}/${p.rounds}  dataset ${p.dataset}`
  const rounds = Array.from({ length: p.rounds }, (_, i) => i + 1).map((r) => {
    const version = p.versions.find((v) => v.round === r)
    if (version) return `round ${String(r).padStart(3)} ${bar(1)} committed ${version.version.slice(0, 12)}, +${version.added ?? "?"} records (${version.records} in dataset)`
    const review = p.review?.status === "open" && p.review.round === r ? ` · waiting for reviewers: ${p.review.decided}/${p.review.required} decided (winnow review)` : ""
    if (r === p.round && p.status === "running") return `round ${String(r).padStart(3)} ${bar(p.shardsTotal ? p.shardsDone / p.shardsTotal : 0)} shards ${p.shardsDone}/${p.shardsTotal}${review}`
    return `round ${String(r).padStart(3)} ${bar(0)}`
  })
  const rate = [
    `generated ${p.generated}`, `accepted ${p.accepted}`,
    f.acceptance !== null ? `acceptance ${f.acceptance}` : undefined,
    f.samplesPerSecond !== undefined ? `${f.samplesPerSecond} samples/s` : undefined,
    f.etaSeconds !== undefined ? `ETA ${duration(f.etaSeconds)}` : undefined
  ].filter(Boolean).join("  ")
  const budget = f.budgetLeft ? [`budget left: ${Object.entries(f.budgetLeft).map(([k, v]) => `${k} ${v}`).join(", ")}`] : []
  const stop = p.budgetStop ? [`stopped by budget: ${p.budgetStop}`] : p.stopReason ? [`stopped: ${p.stopReason}`] : []
  return [header, ...rounds, rate, ...budget, ...stop]
}
