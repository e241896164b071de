import type { DuckDBConnection } from "@duckdb/node-api"
import { queryObjects, sqlString, toNumber } from "../duck.js"
import type { Version } from "../manifest.js"
import { ANSWER_TEXT_SQL } from "../segmentFormat.js"
import { renderSvg } from "../../charts/render.js"
import { groupedBars, lineChart, type ShareBin, shareHistogram } from "../../charts/specs.js"
import { frontMatter, licenseSection } from "./frontMatter.js"
import { generatorName } from "./publicNames.js"
import type { ExportSchema } from "./schemas.js"

/** A file of the card: path relative to the repo folder and its text. */
export interface CardFile {
  readonly name: string
  readonly text: string
}

/** What the card describes: the exported version, its chain (newest first), the rows and shards. */
export interface CardInput {
  readonly relation: string
  readonly version: Version
  readonly chain: ReadonlyArray<Version>
  readonly schema: ExportSchema
  readonly records: number
  readonly scorers: ReadonlyArray<string>
  readonly shards: ReadonlyArray<string>
  /** Bytes of the shards, summed. */
  readonly shardBytes: number
  /** The license identifier given at export, if any (see `frontMatter`). */
  readonly license?: string | undefined
}

const BINS = 20

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "scorer"

const cell = (value: unknown): string => String(value ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): string =>
  [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)].join("\n")

/** Per-round histograms of one score expression (rows where it is NULL are left out). */
const distribution = async (db: DuckDBConnection, relation: string, expr: string, title: string): Promise<{ svg: string; lo: number; hi: number } | null> => {
  const [range] = await queryObjects(db, `SELECT min(v) AS lo, max(v) AS hi FROM (SELECT ${expr} AS v FROM ${relation}) WHERE v IS NOT NULL`)
  if (range.lo === null || range.lo === undefined) return null
  const lo = range.lo as number
  const hi = range.hi as number
  const width = hi > lo ? (hi - lo) / BINS : 1
  const rows = await queryObjects(db, `SELECT round, least(${BINS - 1}, floor((v - ${lo}) / ${width}))::INTEGER AS bin, count(*) AS n
    FROM (SELECT round, ${expr} AS v FROM ${relation}) WHERE v IS NOT NULL GROUP BY ALL ORDER BY round, bin`)
  const byRound = new Map<number, Array<number>>()
  for (const row of rows) {
    const round = toNumber(row.round)
    const counts = byRound.get(round) ?? new Array<number>(BINS).fill(0)
    counts[toNumber(row.bin)] += toNumber(row.n)
    byRound.set(round, counts)
  }
  const top = hi > lo ? hi : lo + 1
  const bins: Array<ShareBin> = [...byRound].flatMap(([round, counts]) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1
    return counts.map((n, bin) => ({ series: `round ${round}`, lo: lo + ((top - lo) * bin) / BINS, hi: lo + ((top - lo) * (bin + 1)) / BINS, share: n / total }))
  })
  return { svg: await renderSvg(shareHistogram({ title, xTitle: "score", bins })), lo, hi }
}

const languagesOf = async (db: DuckDBConnection, relation: string): Promise<Array<string>> => {
  const [row] = await queryObjects(db, `SELECT count(*) FILTER (WHERE regexp_matches(t, ${sqlString("[\u3400-\u9fff]")})) AS zh,
    count(*) FILTER (WHERE regexp_matches(t, '[A-Za-z]{2,}')) AS en
    FROM (SELECT concat(${ANSWER_TEXT_SQL}, ' ', messages[-1].content) AS t FROM ${relation} LIMIT 20000)`)
  return [...(toNumber(row.zh) > 0 ? ["zh"] : []), ...(toNumber(row.en) > 0 ? ["en"] : [])]
}

/**
 * The generators of a chain, oldest first, by name and weights hash: the trained model id, the
 * rounds each sampled and its held-out pass@1 when evaluated. Never a local path.
 */
const modelsTable = (oldestFirst: ReadonlyArray<Version>): string => {
  const models = new Map<string, { name: string; hash: string; id: string; rounds: Array<number>; pass: string }>()
  for (const v of oldestFirst) {
    const { generator, round, eval: evaluation } = v.manifest.lineage
    const key = `${generator.model_hash}\u0000${generatorName(generator)}`
    const model = models.get(key) ?? { name: generatorName(generator), hash: generator.model_hash, id: generator.model_id ?? "", rounds: [], pass: "–" }
    if (!model.rounds.includes(round)) model.rounds.push(round)
    if (evaluation !== undefined && evaluation.model_hash === generator.model_hash) model.pass = evaluation.pass_at_1.toFixed(3)
    models.set(key, model)
  }
  return table(["generator", "weights hash", "trained model id", "rounds", "held-out pass@1"],
    [...models.values()].map((m) => [m.name, `\`${m.hash}\``, m.id === "" ? "–" : `\`${m.id}\``, m.rounds.join(", "), m.pass]))
}

/**
 * The dataset card: `README.md` with YAML front matter (see `frontMatter`: languages, license,
 * size, the version's config over `data/train-*`) and sections for counts, per-round
 * acceptance, score distributions per round and per scorer (SVG charts under `charts/`), the
 * generators by name and weights hash, the lineage table of every version in the chain, and
 * the license.
 */
export const datasetCard = async (db: DuckDBConnection, input: CardInput): Promise<Array<CardFile>> => {
  const { manifest } = input.version
  const oldestFirst = [...input.chain].reverse()
  const files: Array<CardFile> = []
  const charts: Array<string> = []
  const combined = await distribution(db, input.relation, "score", "combined score by round")
  if (combined) {
    files.push({ name: "charts/score.svg", text: combined.svg })
    charts.push("![combined score by round](charts/score.svg)")
  }
  for (const scorer of input.scorers) {
    const chart = await distribution(db, input.relation, `scores[${sqlString(scorer)}]`, `${scorer} by round`)
    if (!chart) continue
    const name = `charts/scorer-${slug(scorer)}.svg`
    files.push({ name, text: chart.svg })
    charts.push(`![${scorer} by round](${name})`)
  }
  const rounds = oldestFirst.map((v) => {
    const c = v.manifest.counts
    const stats = v.manifest.lineage.round_stats
    return {
      round: v.manifest.lineage.round, version: v.id, sequence: v.manifest.sequence, staged: c.staged, added: c.added,
      duplicates: c.duplicates_dropped, near: c.near_duplicates_dropped, contaminated: c.contaminated_dropped,
      keep: c.staged > 0 ? `${((100 * c.added) / c.staged).toFixed(1)}%` : "–",
      acceptance: stats && stats.generated > 0 ? `${((100 * stats.accepted) / stats.generated).toFixed(1)}% (${stats.accepted}/${stats.generated})` : "not recorded"
    }
  })
  files.push({
    name: "charts/rounds.svg",
    text: await renderSvg(groupedBars({
      title: "records per round", xTitle: "round", yTitle: "records",
      bars: rounds.flatMap((r) => [{ category: `r${r.round}`, measure: "staged", value: r.staged }, { category: `r${r.round}`, measure: "added", value: r.added }])
    }))
  })
  const evaluated = oldestFirst.filter((v) => v.manifest.lineage.eval !== undefined)
  if (evaluated.length > 0) {
    files.push({
      name: "charts/eval.svg",
      text: await renderSvg(lineChart({
        title: "held-out pass@1 of the generator that sampled each round", xTitle: "round", yTitle: "pass@1", rate: true, labels: true,
        points: evaluated.map((v) => ({ x: `r${v.manifest.lineage.round}`, series: "pass@1", y: v.manifest.lineage.eval!.pass_at_1 }))
      }))
    })
    charts.unshift("![held-out pass@1 by round](charts/eval.svg)")
  }
  const languages = await languagesOf(db, input.relation)
  const front = frontMatter({
    dataset: manifest.dataset, versionId: input.version.id, schema: input.schema, languages,
    records: input.records, shardBytes: input.shardBytes, license: input.license
  })
  const lineage = oldestFirst.map((v) => {
    const l = v.manifest.lineage
    return [
      v.manifest.sequence, v.id, l.campaign_id, `${l.workflow_id} / ${l.run_id}`, l.round,
      `${generatorName(l.generator)} (${l.generator.model_hash.slice(0, 12)})`, JSON.stringify(l.generator.sampling),
      l.scorers.map((s) => `${s.name}@${s.version}#${s.config_hash}`).join(", "), JSON.stringify(l.selection),
      l.dedup.near ? `near ≥${l.dedup.near.threshold} (${l.dedup.near.scope}, ${l.dedup.near.bands}×${l.dedup.near.rows}, ${l.dedup.near.ngram}-gram)` : "exact ids",
      l.dedup.decontamination ? `${l.dedup.decontamination.prompts} eval prompts (${l.dedup.decontamination.file_hash.slice(0, 12)})` : "–",
      l.winnow_version, v.manifest.created_at
    ]
  })
  const stats = manifest.score_stats
  const body = [
    `# ${manifest.dataset}`,
    "",
    `Synthetic ${input.schema} data generated by winnow (best-of-N self-play: a generator samples, scorers rank, the best are kept). Version \`${input.version.id}\` (sequence ${manifest.sequence}).`,
    "",
    "```python",
    "from datasets import load_dataset",
    `ds = load_dataset("path/to/this/folder", split="train")`,
    "```",
    "",
    "## Counts",
    "",
    table(["rows in this export", "records in version", "sft", "dpo", "versions", "data files"],
      [[input.records, manifest.counts.records, manifest.counts.sft, manifest.counts.dpo, input.chain.length, input.shards.length]]),
    "",
    stats ? table(["combined score", "mean", "min", "p50", "p90", "max"], [["all records", stats.mean.toFixed(4), stats.min.toFixed(4), stats.p50.toFixed(4), stats.p90.toFixed(4), stats.max.toFixed(4)]]) : "No scores.",
    "",
    "## Rounds",
    "",
    "`staged`: records offered by the round after selection; `added`: kept after exact and near-duplicate removal and decontamination; `acceptance`: accepted / generated samples when the campaign recorded them.",
    "",
    table(["round", "version", "staged", "added", "exact dups", "near dups", "contaminated", "kept", "acceptance"],
      rounds.map((r) => [r.round, r.version, r.staged, r.added, r.duplicates, r.near, r.contaminated, r.keep, r.acceptance])),
    "",
    "![records per round](charts/rounds.svg)",
    "",
    "## Score distributions",
    "",
    "Share of each round's records per score bin, for the combined score and each scorer.",
    "",
    ...charts.flatMap((chart) => [chart, ""]),
    "## Models",
    "",
    "The generators that sampled these records, by name and weights hash.",
    "",
    modelsTable(oldestFirst),
    "",
    "## Lineage",
    "",
    table(["seq", "version", "campaign", "workflow / run", "round", "generator (weights hash)", "sampling", "scorers", "selection", "dedup", "decontamination", "winnow", "created"], lineage),
    "",
    "The full manifests are in `winnow/lineage.json` (local paths reduced to their last segment).",
    "",
    ...licenseSection(input.license)
  ].join("\n")
  files.push({ name: "README.md", text: `${front}\n\n${body}` })
  return files
}
