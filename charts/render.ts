import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"

/**
 * The one place winnow draws charts: Vega-Lite specs compiled to Vega and rendered to SVG text
 * on Node (no canvas, no browser, no network: every spec carries its data inline). The dataset
 * card's charts and `winnow report`'s come from here.
 */

/** Look shared by every chart: white background, system sans-serif fonts, no action links. */
const CONFIG = {
  background: "white",
  font: "sans-serif",
  padding: 8,
  title: { anchor: "start", fontSize: 14 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  view: { stroke: "#ddd" }
} as const

/** A loader that refuses every URL: a chart whose spec asks for a file or the network is a bug. */
const offlineLoader = {
  ...vega.loader(),
  load: (uri: string): Promise<string> => Promise.reject(new Error(`charts carry their data inline; refused to load ${uri}`)),
  sanitize: (uri: string): Promise<{ href: string }> => Promise.reject(new Error(`charts carry their data inline; refused to load ${uri}`))
}

/**
 * Renders a Vega-Lite spec to a standalone SVG document (`<svg xmlns=…>…</svg>` plus a newline).
 * Use it for every chart written to a file; build specs with `charts/specs.ts`.
 */
export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const compiled = compile({ config: CONFIG, ...spec } as TopLevelSpec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader: offlineLoader as unknown as vega.Loader, logLevel: vega.Error })
  try {
    return `${await view.toSVG()}\n`
  } finally {
    view.finalize()
  }
}

/** A Vega-Lite spec (re-exported so callers need not depend on vega-lite's types themselves). */
export type ChartSpec = TopLevelSpec
