import type { CampaignProgress } from "../campaign/contracts.js"

/** Prints one JSON value on stdout (the `--json` contract: one object per command). */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/**
 * The `--json` contract in one place: with `json` set, `value` as one JSON line; otherwise what
 * `human` prints. Use at the end of every command that prints data.
 */
export const printAnswer = async (json: unknown, value: unknown, human: () => void | Promise<void>): Promise<void> => {
  if (json === true) printJson(value)
  else await human()
}

/** Prints aligned `key: value` lines for humans. */
export const printFields = (fields: Record<string, unknown>): void => {
  const width = Math.max(...Object.keys(fields).map((k) => k.length))
  for (const [key, value] of Object.entries(fields)) {
    process.stdout.write(`${`${key}:`.padEnd(width + 2)}${typeof value === "object" ? JSON.stringify(value) : String(value)}\n`)
  }
}

/** Prints rows as a plain table with a header. */
export const printTable = (rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void => {
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? "")))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => displayWidth(r[i]!))))
  const line = (values: readonly string[]) => values.map((v, i) => v + " ".repeat(widths[i]! - displayWidth(v))).join("  ").trimEnd()
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`)
  for (const row of cells) process.stdout.write(`${line(row)}\n`)
}

/** Terminal width of a string: CJK and other wide characters take two columns. */
export const displayWidth = (text: string): number => {
  let width = 0
  for (const ch of text) width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1
  return width
}

/**
 * A one-line progress bar on stderr, redrawn in place; only on a terminal. `done()` ends the line.
 */
export class ProgressBar {
  private last = ""
  constructor(private readonly enabled: boolean) {}

  update(p: CampaignProgress): void {
    if (!this.enabled) return
    const fraction = p.shardsTotal === 0 ? 0 : p.shardsDone / p.shardsTotal
    const overall = (p.round - 1 + fraction) / Math.max(1, p.rounds)
    const width = 24
    const filled = Math.round(overall * width)
    const waiting = p.review?.status === "open" ? ` · waiting for reviewers: ${p.review.decided}/${p.review.required} decided (winnow review)` : ""
    const text = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] round ${p.round}/${p.rounds} shards ${p.shardsDone}/${p.shardsTotal} generated ${p.generated} accepted ${p.accepted}${waiting}`
    if (text === this.last) return
    this.last = text
    process.stderr.write(`\r\x1b[2K${text}`)
  }

  done(): void {
    if (this.enabled && this.last) process.stderr.write("\n")
    this.last = ""
  }
}
