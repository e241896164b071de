import { existsSync, readdirSync } from "node:fs"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { renderSvg } from "../charts/render.js"
import { inputInvalid } from "../core/errors.js"
import { reportCharts } from "./charts.js"
import type { ReportData } from "./model.js"
import { reportPage } from "./page.js"

/** What `writeReport` wrote: the folder, its page and its chart files (relative to the folder). */
export interface WrittenReport {
  readonly out: string
  readonly index: string
  readonly charts: readonly string[]
}

/**
 * Writes a report folder: `index.html` and `charts/*.svg`. Refuses (InputInvalid on `--out`) a
 * folder that holds other files than an earlier report; an earlier report there is replaced.
 * Use it after building `ReportData` with `campaignReport` or `datasetReport`.
 */
export const writeReport = async (outDir: string, data: ReportData): Promise<WrittenReport> => {
  const out = resolve(outDir)
  if (existsSync(out)) {
    const entries = readdirSync(out)
    if (entries.length > 0 && !entries.includes("index.html")) {
      throw inputInvalid("winnow report", "--out", outDir, "a new or empty folder, or one holding an earlier report (index.html)")
    }
  }
  const charts = reportCharts(data)
  await rm(join(out, "charts"), { recursive: true, force: true })
  await mkdir(join(out, "charts"), { recursive: true })
  for (const chart of charts) await writeFile(join(out, "charts", chart.file), await renderSvg(chart.spec))
  const index = join(out, "index.html")
  await writeFile(index, reportPage(data, charts))
  return { out, index, charts: charts.map((c) => `charts/${c.file}`) }
}
