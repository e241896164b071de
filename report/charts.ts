import type { ScoreColumnStats } from "../campaign/contracts.js"
import type { ChartSpec } from "../charts/render.js"
import { allVsKeptHistogram, type CountBin, correlationHeatmap, lineChart, type LinePoint } from "../charts/specs.js"
import type { ReportData, ReportRound } from "./model.js"

/** One chart of a report: its file under `charts/`, the page section it belongs to, its title and spec. */
export interface ReportChart {
  readonly file: string
  readonly section: "curves" | "scores" | "distributions" | "review"
  readonly title: string
  readonly spec: ChartSpec
}

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "scorer"

const LANGUAGE_NAMES: Readonly<Record<string, string>> = { zh: "Chinese", ja: "Japanese", ko: "Korean", latin: "Latin script", none: "no letters" }

/** A point per round of one series; rounds that recorded nothing for it leave a gap. */
const series = (rounds: readonly ReportRound[], name: string, value: (r: ReportRound) => number | null | undefined): LinePoint[] =>
  rounds.map((r) => ({ x: r.label, series: name, y: value(r) ?? null }))

const full = (r: ReportRound) => r.source !== "records"

/** Mean over all samples, mean of kept records and best-of-N gain of one score column, per round. */
const scoreSeries = (rounds: readonly ReportRound[], column: (r: ReportRound) => ScoreColumnStats | undefined): LinePoint[] => [
  ...series(rounds, "mean, all samples", (r) => (full(r) ? column(r)?.all?.mean : null)),
  ...series(rounds, "mean, kept", (r) => column(r)?.accepted?.mean),
  ...series(rounds, "best-of-N gain", (r) => (full(r) ? column(r)?.best_of_n_gain : null))
]

const share = (count: number | undefined, total: number) => (count === undefined || total === 0 ? null : count / total)

/** The per-round curves: acceptance, eval pass@1, distinct-n, lengths, truncation, language mix. */
const curves = (data: ReportData): ReportChart[] => {
  const rounds = data.rounds
  const charts: ReportChart[] = [{
    file: "acceptance.svg", section: "curves", title: "acceptance and filter pass rate",
    spec: lineChart({
      title: "acceptance and filter pass rate", xTitle: "round", yTitle: "share of samples", rate: true, labels: true,
      points: [...series(rounds, "accepted / generated", (r) => (r.stats.samples > 0 ? r.stats.acceptance_rate : null)), ...series(rounds, "passed every filter", (r) => (full(r) ? r.stats.filter_pass_rate : null))]
    })
  }]
  if (data.evals.length > 0) {
    charts.push({
      file: "eval.svg", section: "curves", title: "held-out pass@1",
      spec: lineChart({ title: "held-out pass@1 of each generator", xTitle: "generator", yTitle: "pass@1", rate: true, labels: true, points: data.evals.map((e) => ({ x: e.label, series: "pass@1", y: e.pass_at_1 })) })
    })
  }
  charts.push({
    file: "gain.svg", section: "curves", title: "best-of-N gain",
    spec: lineChart({
      title: "best-of-N gain (mean of each prompt's best minus mean of all samples)", xTitle: "round", yTitle: "gain",
      points: [...series(rounds, "combined", (r) => (full(r) ? r.stats.combined.best_of_n_gain : null)), ...data.scorers.flatMap((s) => series(rounds, s, (r) => (full(r) ? r.stats.scores[s]?.best_of_n_gain : null)))]
    })
  }, {
    file: "distinct.svg", section: "curves", title: "distinct-n of kept responses",
    spec: lineChart({ title: "distinct-1 and distinct-2 of kept responses", xTitle: "round", yTitle: "distinct-n", rate: true, points: [...series(rounds, "distinct-1", (r) => r.stats.distinct_1), ...series(rounds, "distinct-2", (r) => r.stats.distinct_2)] })
  }, {
    file: "lengths.svg", section: "curves", title: "lengths",
    spec: lineChart({
      title: "mean length (tokens; units = CJK characters or words)", xTitle: "round", yTitle: "mean length",
      points: [
        ...series(rounds, "tokens, all samples", (r) => (full(r) ? r.stats.lengths?.tokens.all?.mean : null)), ...series(rounds, "tokens, kept", (r) => r.stats.lengths?.tokens.accepted?.mean),
        ...series(rounds, "units, all samples", (r) => (full(r) ? r.stats.lengths?.units.all?.mean : null)), ...series(rounds, "units, kept", (r) => r.stats.lengths?.units.accepted?.mean)
      ]
    })
  }, {
    file: "truncation.svg", section: "curves", title: "truncation",
    spec: lineChart({
      title: "truncation: samples cut at max_new_tokens, inputs a scorer truncated", xTitle: "round", yTitle: "share of samples", rate: true,
      points: [
        ...series(rounds, "cut at max_new_tokens", (r) => (full(r) && r.stats.length_stopped !== undefined ? share(r.stats.length_stopped, r.stats.samples) : null)),
        ...data.scorers.flatMap((s) => series(rounds, `truncated by ${s}`, (r) => (full(r) ? share(r.stats.truncated[s] ?? 0, r.stats.samples) : null)))
      ]
    })
  })
  const languages = [...new Set(rounds.flatMap((r) => [...Object.keys(r.stats.languages?.all ?? {}), ...Object.keys(r.stats.languages?.accepted ?? {})]))]
  if (languages.length > 0) {
    const mix = (which: "all" | "accepted", name: string) => (r: ReportRound) => {
      const counts = r.stats.languages?.[which]
      if (!counts || (which === "all" && !full(r))) return null
      return share(counts[name] ?? 0, Object.values(counts).reduce((a, b) => a + b, 0))
    }
    charts.push({
      file: "languages.svg", section: "curves", title: "language mix",
      spec: lineChart({
        title: "language mix (share of responses by script)", xTitle: "round", yTitle: "share", rate: true,
        points: languages.flatMap((l) => [...series(rounds, `${LANGUAGE_NAMES[l] ?? l}, all samples`, mix("all", l)), ...series(rounds, `${LANGUAGE_NAMES[l] ?? l}, kept`, mix("accepted", l))])
      })
    })
  }
  return charts
}

/** Per score (the combined one first): its mean, kept mean and gain per round, and its all-vs-kept histograms. */
const perScore = (data: ReportData): ReportChart[] =>
  [null, ...data.scorers].flatMap((scorer, i): ReportChart[] => {
    const name = scorer ?? "combined score"
    const file = scorer === null ? "combined" : `scorer-${i}-${slug(scorer)}`
    const column = (r: ReportRound) => (scorer === null ? r.stats.combined : r.stats.scores[scorer])
    const bins: CountBin[] = data.rounds.flatMap((r) => {
      const h = scorer === null ? r.stats.histograms?.combined : r.stats.histograms?.scores[scorer]
      if (!h) return []
      const width = (h.hi - h.lo) / Math.max(1, h.kept.length)
      const edges = (k: number) => ({ lo: h.lo + k * width, hi: h.lo + (k + 1) * width })
      return [
        ...h.all.map((count, k) => ({ panel: r.label, set: "all samples", ...edges(k), count })),
        ...h.kept.map((count, k) => ({ panel: r.label, set: "kept", ...edges(k), count }))
      ]
    })
    return [
      { file: `score-${file}.svg`, section: "scores", title: name, spec: lineChart({ title: `${name}: mean and best-of-N gain`, xTitle: "round", yTitle: name, points: scoreSeries(data.rounds, column) }) },
      ...(bins.length > 0 ? [{ file: `hist-${file}.svg`, section: "distributions" as const, title: `${name}: all vs kept`, spec: allVsKeptHistogram({ title: `${name}: all samples vs kept, per round`, xTitle: name, bins }) }] : [])
    ]
  })

/** Agreement between scorers: the latest round's correlation matrix, and each pair's correlation by round. */
const agreement = (data: ReportData): ReportChart[] => {
  const withCorrelations = data.rounds.filter((r) => (r.stats.correlations ?? []).length > 0)
  const latest = withCorrelations.at(-1)
  if (!latest) return []
  const names = [...data.scorers, "score"]
  const cells = names.flatMap((a) => names.map((b) => {
    if (a === b) return { a, b, value: 1 }
    const pair = latest.stats.correlations!.find((c) => (c.a === a && c.b === b) || (c.a === b && c.b === a))
    return { a, b, value: pair?.pearson ?? null }
  }))
  const pairs = [...new Set(withCorrelations.flatMap((r) => r.stats.correlations!.map((c) => `${c.a} ~ ${c.b}`)))]
  return [
    { file: "correlation.svg", section: "distributions", title: "correlation between scorers", spec: correlationHeatmap({ title: `Pearson correlation between scores over all samples (${latest.label}; score = combined)`, cells }) },
    {
      file: "correlation-rounds.svg", section: "distributions", title: "correlation by round",
      spec: lineChart({
        title: "Pearson correlation of each pair of scores, per round", xTitle: "round", yTitle: "r",
        points: pairs.flatMap((p) => series(withCorrelations, p, (r) => r.stats.correlations!.find((c) => `${c.a} ~ ${c.b}` === p)?.pearson))
      })
    }
  ]
}

/** Agreement between reviewers and the discriminator per reviewed round (with the campaign's `review` gate). */
const reviewCharts = (data: ReportData): ReportChart[] => {
  const reviewed = data.rounds.filter((r) => r.review !== undefined)
  if (reviewed.length === 0) return []
  return [{
    file: "review.svg", section: "review", title: "reviewers vs the discriminator",
    spec: lineChart({
      title: "reviewers vs the discriminator, per round", xTitle: "round", yTitle: "share of decided records", rate: true, labels: true,
      points: [
        ...series(reviewed, "agreement (reviewer verdict = selection)", (r) => r.review?.agreement),
        ...series(reviewed, "kept records the reviewers kept", (r) => r.review?.kept_accepted)
      ]
    })
  }]
}

/** Every chart of a report, in page order. Render each with `renderSvg` into `charts/<file>`. */
export const reportCharts = (data: ReportData): ReportChart[] => [...curves(data), ...perScore(data), ...agreement(data), ...reviewCharts(data)]
