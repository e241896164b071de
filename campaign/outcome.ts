import type { CampaignOutcome, CampaignProgress } from "./contracts.js"

/**
 * How a finished campaign fared, and why when it fell short: no record added (which filters
 * removed the samples, reviewers left them out, or dedup found them all in the dataset already), or fewer than
 * `accept_until` asked for. Pure; the campaign workflow reports it, the CLI exits 3 unless `ok`.
 */
export const outcomeOf = (progress: CampaignProgress, acceptUntil: number | undefined): { outcome: CampaignOutcome; reason?: string } => {
  const kept = progress.versions.reduce((sum, v) => sum + (v.added ?? 0), 0)
  if (progress.budgetStop !== undefined) return { outcome: "budget", reason: `${progress.budgetStop}; ${kept} records added before it` }
  if (kept > 0) {
    return acceptUntil !== undefined && kept < acceptUntil
      ? { outcome: "short", reason: `added ${kept} of the ${acceptUntil} records selection.accept_until asks for` }
      : { outcome: "ok" }
  }
  if (progress.generated === 0) return { outcome: "empty", reason: progress.stopReason ?? "no sample was generated" }
  const leftOut = (progress.reviews ?? []).reduce((sum, r) => sum + r.left_out, 0)
  if (leftOut > 0) {
    return { outcome: "empty", reason: `reviewers left out ${leftOut} of the ${progress.accepted} accepted records${leftOut < progress.accepted ? "; the rest were already in the dataset" : ""}` }
  }
  if (progress.accepted > 0) {
    return { outcome: "empty", reason: `all ${progress.accepted} accepted records were already in dataset ${progress.dataset} (dropped as duplicates at commit)` }
  }
  const failed: Record<string, number> = {}
  let samples = 0
  for (const round of progress.stats ?? []) {
    samples += round.samples
    for (const [name, count] of Object.entries(round.failed ?? {})) failed[name] = (failed[name] ?? 0) + count
  }
  const filters = Object.entries(failed).sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} removed ${count} of ${samples}`)
  return {
    outcome: "empty",
    reason: filters.length > 0
      ? `no sample was accepted out of ${progress.generated}: ${filters.join("; ")}`
      : `no sample was accepted out of ${progress.generated}: selection kept none (check selection.min_score)`
  }
}
