/**
 * A hand-drawn, synchronous SVG rate curve, kept only for `bench/selfplay.ts`, which draws its
 * picture without awaiting. Every other chart (the dataset card's, `winnow report`'s) comes from
 * the Vega-Lite specs in `charts/`; move the bench there too and delete this file.
 */

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
const WIDTH = 640
const HEIGHT = 360
const MARGIN = { left: 56, right: 150, top: 36, bottom: 44 }

/** Escapes text for SVG content and attributes. */
const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!)


/**
 * A line chart of rates in [0, 1] over categories (e.g. held-out pass@1 by round), one line per
 * series, with a dot and its value at each point. Only for the selfplay bench (see above); use
 * `lineChart` from `charts/specs.ts` with `renderSvg` everywhere else.
 */
export const rateCurveSvg = (
  title: string,
  categories: ReadonlyArray<string>,
  series: ReadonlyArray<{ readonly label: string; readonly values: ReadonlyArray<number> }>
): string => {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const x = (i: number) => MARGIN.left + (categories.length <= 1 ? plotW / 2 : (i / (categories.length - 1)) * plotW)
  const y = (rate: number) => MARGIN.top + plotH - Math.min(1, Math.max(0, rate)) * plotH
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`
  ]
  for (let i = 0; i <= 4; i++) parts.push(`<text x="${MARGIN.left - 6}" y="${y(i / 4) + 4}" text-anchor="end">${i * 25}%</text>`)
  categories.forEach((category, i) => parts.push(`<text x="${x(i).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`))
  series.forEach((line, s) => {
    const color = PALETTE[s % PALETTE.length]
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`)
    line.values.forEach((v, i) => {
      parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`)
      parts.push(`<text x="${x(i).toFixed(1)}" y="${(y(v) - 8).toFixed(1)}" text-anchor="middle">${(v * 100).toFixed(1)}%</text>`)
    })
    const ly = MARGIN.top + 14 + s * 18
    parts.push(`<line x1="${WIDTH - MARGIN.right + 12}" y1="${ly - 4}" x2="${WIDTH - MARGIN.right + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`)
    parts.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly}">${escapeXml(line.label)}</text>`)
  })
  parts.push("</svg>")
  return `${parts.join("\n")}\n`
}
