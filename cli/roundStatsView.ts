import type { RoundStats, ScoreColumnStats } from "../campaign/contracts.js"
import type { EvalStats } from "../campaign/evaluation.js"
import { printTable } from "./output.js"
import type { QueueState } from "./queueStatus.js"

const num = (x: number | null | undefined): string => (x === null || x === undefined ? "-" : String(Math.round(x * 1000) / 1000))

/** One table row per score: its distribution over all samples and over accepted records, and its best-of-N gain. */
export const roundStatsRows = (stats: RoundStats): Array<Record<string, string>> => {
  const row = (name: string, column: ScoreColumnStats) => ({
    score: name,
    "all mean": num(column.all?.mean),
    p10: num(column.all?.p10),
    p50: num(column.all?.p50),
    p90: num(column.all?.p90),
    "accepted mean": num(column.accepted?.mean),
    "accepted p50": num(column.accepted?.p50),
    "best-of-n gain": num(column.best_of_n_gain),
    truncated: String(stats.truncated[name] ?? 0)
  })
  return [row("(combined)", stats.combined), ...Object.entries(stats.scores).map(([name, column]) => row(name, column))]
}

/** Prints a round's statistics for humans: a summary line and a table of scores. */
export const printRoundStats = (stats: RoundStats): void => {
  process.stdout.write(
    `\nround ${stats.round}: ${stats.samples} samples over ${stats.prompts} prompts, ${stats.accepted} accepted ` +
    `(acceptance ${num(stats.acceptance_rate)}, passed filters ${num(stats.filter_pass_rate)}), ` +
    `distinct-1 ${num(stats.distinct_1)}, distinct-2 ${num(stats.distinct_2)}\n`
  )
  const rows = roundStatsRows(stats)
  printTable(rows, Object.keys(rows[0]!))
}

/** Prints the held-out evaluations of a campaign's generators: pass@1, pass@k and mean scores by round. */
export const printEvals = (evals: readonly EvalStats[]): void => {
  process.stdout.write(`\nheld-out evaluation (round 0 = the starting generator; ${evals[0]!.prompts} prompts):\n`)
  const rows = evals.map((e) => ({
    round: String(e.round),
    generator: e.model_hash.slice(0, 12),
    "pass@1": num(e.pass_at_1),
    ...Object.fromEntries(Object.entries(e.pass_at_k).filter(([k]) => k !== "1").map(([k, v]) => [`pass@${k}`, num(v)])),
    "mean score": num(e.mean_score)
  }))
  printTable(rows, Object.keys(rows[0]!))
}

/** Prints the task queues a running campaign uses: what each carries, its pollers, what waits there and what runs. */
export const printQueues = (queues: readonly QueueState[]): void => {
  const counts = (c: Readonly<Record<string, number>>) => Object.entries(c).map(([k, v]) => `${k}×${v}`).join(" ") || "-"
  process.stdout.write("\ntask queues:\n")
  printTable(queues.map((q) => ({ queue: q.queue, carries: q.carries.join(", "), pollers: q.pollers, waiting: counts(q.waiting), running: counts(q.running) })), ["queue", "carries", "pollers", "waiting", "running"])
}
