import { spawn } from "node:child_process"
import { Effect } from "effect"
import type { Logger } from "pino"
import { storeRoot } from "../../core/home.js"
import type { DatasetStoreApi } from "../../datasets/store.js"
import { workArea } from "../../datasets/workArea.js"
import type { ReportData } from "../../report/model.js"
import { campaignReport, datasetReport } from "../../report/sources.js"
import { writeReport } from "../../report/write.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { openDatasetStore, readCliConfig } from "../config.js"
import { loadCampaignHistory } from "../historyLoad.js"
import { printAnswer, printFields } from "../output.js"
import { withSession } from "../session.js"

const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => Effect.runPromise(effect.pipe(Effect.mapError((e) => e as Error)))

/** True when `ref` names a dataset version (`name@version`, or a dataset of the store) rather than a campaign id. */
const isDatasetRef = async (store: DatasetStoreApi, ref: string): Promise<boolean> =>
  ref.includes("@") || (await run(store.list())).some((d) => d.name === ref)

/** Opens the page in the desktop's browser; says so on stderr when there is none. */
const openInBrowser = (path: string): void => {
  const [command, args] = process.platform === "darwin" ? ["open", [path]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", path]] : ["xdg-open", [path]]
  const child = spawn(command, args as string[], { detached: true, stdio: "ignore" })
  child.on("error", () => process.stderr.write(`winnow: could not start ${command} to open the report; open ${path} in a browser\n`))
  child.unref()
}

const defaultOut = (ref: string) => `winnow-report-${ref.replace(/[^A-Za-z0-9._-]+/g, "_")}`

const report = (log: Logger): Command => {
  const command: Command = {
    name: "report",
    summary: "Write a static HTML report (one folder, opens from file://): per-round curves, per-scorer histograms of all vs kept samples and their correlations, a sample browser, and the version's lineage.",
    usage: "report <campaign-id | dataset[@version]> [--out DIR] [--open] [--json]",
    options: { json: { type: "boolean" }, out: { type: "string", short: "o" }, open: { type: "boolean" } },
    descriptions: {
      out: "folder to write index.html and charts/ into (default ./winnow-report-<ref>); an earlier report there is replaced",
      open: "open the report in the desktop's browser afterwards"
    },
    positionals: { min: 1, max: 1 },
    run: async (args) => {
      const ref = args.positionals[0]!
      const out = args.values.out === undefined ? defaultOut(ref) : String(args.values.out)
      if (out.trim() === "") throw new UsageError("--out: got an empty path, expected a folder", helpOf(command))
      const config = readCliConfig(process.env)
      const store = await openDatasetStore(config)
      const work = workArea(storeRoot(config.home))
      const data: ReportData = (await isDatasetRef(store, ref))
        ? await run(datasetReport(store, work, ref))
        : await withSession(config, log, "inspect", async (session) => {
          const history = await loadCampaignHistory(session.client, ref, { shards: false })
          return run(campaignReport(store, work, {
            campaignId: ref, stats: history.stats, evals: history.evals, versions: history.versions, ...(history.reviews ? { reviews: history.reviews } : {}),
            ...(history.result?.dataset ? { dataset: history.result.dataset } : {})
          }))
        })
      const written = await writeReport(out, data)
      const summary = {
        out: written.out, index: written.index, charts: written.charts, rounds: data.rounds.length,
        prompts: data.browser.prompts.length, all_samples: data.browser.rounds.every((r) => r.all_samples)
      }
      await printAnswer(args.values.json, summary, () => printFields({ report: written.index, charts: written.charts.length, rounds: summary.rounds, "prompts shown": summary.prompts, "all samples": summary.all_samples ? "yes" : "no (work files gone: kept records only)" }))
      if (args.values.open === true) openInBrowser(written.index)
      return 0
    }
  }
  return command
}

/** `winnow report`: a static HTML report of a campaign or a dataset version (see `report/`). */
export const reportCommand = (log: Logger): Command => report(log)
