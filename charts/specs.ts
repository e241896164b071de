import type { ChartSpec } from "./render.js"

/**
 * Vega-Lite specs for the charts winnow draws, as functions of plain rows. Each returns a spec
 * for `renderSvg`; the rows become the chart's inline data (and so its aria labels, which tests
 * and screen readers read).
 */

const WIDTH = 480
const HEIGHT = 240

/** One point of a line chart: a category on x (a round), the series it belongs to, its value (null: a gap). */
export interface LinePoint {
  readonly x: string
  readonly series: string
  readonly y: number | null
}

/**
 * Lines over ordered categories (rounds), one per series, with a dot at each point. `format` is a
 * d3 format for the y axis (`%` for rates, which then also span [0, 1]); `labels` writes each
 * value beside its dot. Use for every per-round curve.
 */
export const lineChart = (options: {
  readonly title: string
  readonly xTitle: string
  readonly yTitle: string
  readonly points: readonly LinePoint[]
  readonly format?: string
  readonly rate?: boolean
  readonly labels?: boolean
}): ChartSpec => {
  const order = [...new Set(options.points.map((p) => p.x))]
  const x = { field: "x", type: "ordinal", title: options.xTitle, sort: order, axis: { labelAngle: 0 } }
  const y = {
    field: "y", type: "quantitative", title: options.yTitle,
    ...(options.rate ? { scale: { domain: [0, 1] } } : { scale: { zero: false } }),
    axis: { format: options.format ?? (options.rate ? "%" : "~g") }
  }
  const color = { field: "series", type: "nominal", title: null, sort: [...new Set(options.points.map((p) => p.series))] }
  const line = { mark: { type: "line", point: { filled: true, size: 50 } }, encoding: { x, y, color } }
  const labels = {
    mark: { type: "text", dy: -9, fontSize: 10 },
    encoding: { x, y, color, text: { field: "y", type: "quantitative", format: options.rate ? ".1%" : ".3~g" } }
  }
  return {
    title: options.title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: options.points.filter((p) => p.y !== null && Number.isFinite(p.y)) as unknown as object[] },
    layer: options.labels ? [line, labels] : [line]
  } as unknown as ChartSpec
}

/** One bin of a histogram series: its edges and the share of the series' values it holds. */
export interface ShareBin {
  readonly series: string
  readonly lo: number
  readonly hi: number
  readonly share: number
}

/**
 * Histograms drawn as lines, one per series (a round), each normalised to shares so series of
 * different sizes compare. Use for score distributions across rounds (the dataset card).
 */
export const shareHistogram = (options: { readonly title: string; readonly xTitle: string; readonly bins: readonly ShareBin[] }): ChartSpec => ({
  title: options.title,
  width: WIDTH,
  height: HEIGHT,
  data: { values: options.bins.map((b) => ({ ...b, mid: (b.lo + b.hi) / 2 })) },
  mark: { type: "line", point: true, interpolate: "monotone" },
  encoding: {
    x: { field: "mid", type: "quantitative", title: options.xTitle, scale: { zero: false } },
    y: { field: "share", type: "quantitative", title: "share of records", axis: { format: "%" } },
    color: { field: "series", type: "nominal", title: null, sort: [...new Set(options.bins.map((b) => b.series))] }
  }
}) as unknown as ChartSpec

/** One bar of a grouped bar chart: its category (a round), measure (staged, added) and value. */
export interface BarValue {
  readonly category: string
  readonly measure: string
  readonly value: number
}

/** Grouped bars: per category, one bar per measure side by side. Use for counts per round. */
export const groupedBars = (options: { readonly title: string; readonly xTitle: string; readonly yTitle: string; readonly bars: readonly BarValue[] }): ChartSpec => {
  const measures = [...new Set(options.bars.map((b) => b.measure))]
  return {
    title: options.title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: options.bars as unknown as object[] },
    mark: { type: "bar" },
    encoding: {
      x: { field: "category", type: "ordinal", title: options.xTitle, sort: [...new Set(options.bars.map((b) => b.category))], axis: { labelAngle: 0 } },
      xOffset: { field: "measure", type: "nominal", sort: measures },
      y: { field: "value", type: "quantitative", title: options.yTitle },
      color: { field: "measure", type: "nominal", title: null, sort: measures }
    }
  } as unknown as ChartSpec
}

/** One bin of an all-vs-kept histogram: the panel (round), which set (`all samples`, `kept`), edges, count. */
export interface CountBin {
  readonly panel: string
  readonly set: string
  readonly lo: number
  readonly hi: number
  readonly count: number
}

/**
 * Overlaid histograms of all samples against kept ones, one small panel per round (each with its
 * own axes, since a round's bins are its own). Use for "what did selection keep" per scorer.
 */
export const allVsKeptHistogram = (options: { readonly title: string; readonly xTitle: string; readonly bins: readonly CountBin[] }): ChartSpec => {
  const panels = [...new Set(options.bins.map((b) => b.panel))]
  return {
    title: options.title,
    data: { values: options.bins as unknown as object[] },
    facet: { field: "panel", type: "ordinal", title: null, sort: panels },
    columns: Math.min(3, Math.max(1, panels.length)),
    resolve: { scale: { x: "independent", y: "independent" } },
    spec: {
      width: 200,
      height: 130,
      mark: { type: "bar", opacity: 0.65, binSpacing: 0 },
      encoding: {
        x: { field: "lo", type: "quantitative", title: options.xTitle, bin: { binned: true }, scale: { zero: false } },
        x2: { field: "hi" },
        y: { field: "count", type: "quantitative", title: "samples", stack: null },
        color: { field: "set", type: "nominal", title: null, sort: ["all samples", "kept"], scale: { range: ["#9ecae1", "#e6550d"] } }
      }
    }
  } as unknown as ChartSpec
}

/** One cell of a correlation matrix: two score names and their correlation (null: not enough data). */
export interface MatrixCell {
  readonly a: string
  readonly b: string
  readonly value: number | null
}

/** A correlation heatmap over [-1, 1] with each value written in its cell. Use for agreement between scorers. */
export const correlationHeatmap = (options: { readonly title: string; readonly cells: readonly MatrixCell[] }): ChartSpec => {
  const names = [...new Set(options.cells.flatMap((c) => [c.a, c.b]))]
  const size = Math.max(120, names.length * 60)
  const x = { field: "a", type: "nominal", title: null, sort: names, axis: { labelAngle: 0 } }
  const y = { field: "b", type: "nominal", title: null, sort: names }
  return {
    title: options.title,
    width: size,
    height: size,
    data: { values: options.cells.filter((c) => c.value !== null) as unknown as object[] },
    layer: [
      { mark: "rect", encoding: { x, y, color: { field: "value", type: "quantitative", title: "r", scale: { domain: [-1, 1], scheme: "redblue" } } } },
      { mark: { type: "text", fontSize: 12 }, encoding: { x, y, text: { field: "value", type: "quantitative", format: ".2f" } } }
    ]
  } as unknown as ChartSpec
}
