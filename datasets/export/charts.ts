/**
 * Small self-contained SVG charts for dataset cards (no fonts or scripts to fetch; they render
 * on the Hugging Face hub, GitHub and in any browser).
 */

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
const WIDTH = 640
const HEIGHT = 360
const MARGIN = { left: 56, right: 150, top: 36, bottom: 44 }

/** Escapes text for SVG content and attributes. */
export const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!)

const formatTick = (value: number): string => {
  const abs = Math.abs(value)
  if (abs !== 0 && (abs < 0.01 || abs >= 10_000)) return value.toExponential(1)
  return Number(value.toFixed(abs < 1 ? 3 : 2)).toString()
}

/** One line of a histogram chart: a label and the count in each bin. */
export interface Series {
  readonly label: string
  readonly counts: ReadonlyArray<number>
}

/**
 * A histogram chart with one line per series (e.g. per round), each normalised to the share
 * of its own records so rounds of different sizes compare; bins span [lo, hi].
 */
export const histogramSvg = (title: string, lo: number, hi: number, series: ReadonlyArray<Series>): string => {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const bins = Math.max(1, ...series.map((s) => s.counts.length))
  const shares = series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0) || 1
    return s.counts.map((c) => c / total)
  })
  const top = Math.max(0.01, ...shares.flat())
  const x = (bin: number) => MARGIN.left + ((bin + 0.5) / bins) * plotW
  const y = (share: number) => MARGIN.top + plotH - (share / top) * plotH
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`
  ]
  for (let i = 0; i <= 4; i++) {
    const value = lo + ((hi - lo) * i) / 4
    const px = MARGIN.left + (plotW * i) / 4
    parts.push(`<text x="${px}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(value)}</text>`)
    const share = (top * i) / 4
    parts.push(`<text x="${MARGIN.left - 6}" y="${y(share) + 4}" text-anchor="end">${Math.round(share * 100)}%</text>`)
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">score</text>`)
  shares.forEach((values, i) => {
    const color = PALETTE[i % PALETTE.length]
    const points = values.map((share, bin) => `${x(bin).toFixed(1)},${y(share).toFixed(1)}`).join(" ")
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`)
    const ly = MARGIN.top + 14 + i * 18
    parts.push(`<line x1="${WIDTH - MARGIN.right + 12}" y1="${ly - 4}" x2="${WIDTH - MARGIN.right + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`)
    parts.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly}">${escapeXml(series[i].label)}</text>`)
  })
  parts.push("</svg>")
  return `${parts.join("\n")}\n`
}

/** A grouped bar chart: for each category (e.g. round), one bar per measure (e.g. staged, kept). */
export const barsSvg = (
  title: string,
  categories: ReadonlyArray<string>,
  measures: ReadonlyArray<{ readonly label: string; readonly values: ReadonlyArray<number> }>
): string => {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const top = Math.max(1, ...measures.flatMap((m) => m.values))
  const groupW = plotW / Math.max(1, categories.length)
  const barW = (groupW * 0.8) / Math.max(1, measures.length)
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`
  ]
  for (let i = 0; i <= 4; i++) {
    const value = (top * i) / 4
    parts.push(`<text x="${MARGIN.left - 6}" y="${MARGIN.top + plotH - (plotH * i) / 4 + 4}" text-anchor="end">${formatTick(Math.round(value))}</text>`)
  }
  categories.forEach((category, c) => {
    const gx = MARGIN.left + c * groupW + groupW * 0.1
    measures.forEach((measure, m) => {
      const h = (measure.values[c] / top) * plotH
      parts.push(`<rect x="${(gx + m * barW).toFixed(1)}" y="${(MARGIN.top + plotH - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[m % PALETTE.length]}"/>`)
    })
    parts.push(`<text x="${(gx + groupW * 0.4).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`)
  })
  measures.forEach((measure, m) => {
    const ly = MARGIN.top + 14 + m * 18
    parts.push(`<rect x="${WIDTH - MARGIN.right + 12}" y="${ly - 10}" width="20" height="10" fill="${PALETTE[m % PALETTE.length]}"/>`)
    parts.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly}">${escapeXml(measure.label)}</text>`)
  })
  parts.push("</svg>")
  return `${parts.join("\n")}\n`
}

/**
 * A line chart of rates in [0, 1] over categories (e.g. held-out pass@1 by round), one line per
 * series, with a dot and its value at each point.
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
