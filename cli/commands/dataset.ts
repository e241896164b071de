import { Effect, Stream } from "effect"
import type { Logger } from "pino"
import { EXPORT_FORMATS, EXPORT_SCHEMAS } from "../../datasets/export/schemas.js"
import type { VersionDiff } from "../../datasets/diff.js"
import type { Version } from "../../datasets/manifest.js"
import type { DatasetStoreApi } from "../../datasets/store.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { openDatasetStore, readCliConfig } from "../config.js"
import { printAnswer, printFields, printTable } from "../output.js"

const store = () => openDatasetStore(readCliConfig(process.env))
const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => Effect.runPromise(effect.pipe(Effect.mapError((e) => e as Error)))
const JSON_OPTION = { json: { type: "boolean" } } as const
const short = (hash: string) => hash.slice(0, 12)
const fixed = (value: number | null | undefined) => (value === null || value === undefined ? "-" : Number(value.toFixed(4)))

const list: Command = {
  name: "list",
  summary: "List datasets with their head version.",
  usage: "dataset list [--json]",
  options: JSON_OPTION,
  positionals: { min: 0, max: 0 },
  run: async (args) => {
    const rows = await run((await store()).list())
    await printAnswer(args.values.json, rows, () => printTable(rows.map((r) => ({ ...r })), ["name", "head", "sequence", "records", "updated_at"]))
    return 0
  }
}

const show: Command = {
  name: "show",
  summary: "Show a version's manifest: counts (with what dedup dropped), score statistics, lineage. Without --json, a first record too.",
  usage: "dataset show <name[@version]> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const s = await store()
    const version = await run(s.resolve(args.positionals[0]!))
    await printAnswer(args.values.json, { id: version.id, ...version.manifest }, () => printVersion(s, version))
    return 0
  }
}

/** A version for humans: its manifest's fields, then its first record. */
const printVersion = async (s: DatasetStoreApi, version: Version): Promise<void> => {
  const m = version.manifest
  const l = m.lineage
  printFields({
    dataset: m.dataset, version: version.id, sequence: m.sequence, parent: m.parent ?? "-", created: m.created_at,
    records: m.counts.records, sft: m.counts.sft, dpo: m.counts.dpo,
    "this commit": `staged ${m.counts.staged}, added ${m.counts.added}, exact dups ${m.counts.duplicates_dropped}, near dups ${m.counts.near_duplicates_dropped}, contaminated ${m.counts.contaminated_dropped}`,
    score: m.score_stats, campaign: l.campaign_id, "workflow/run": `${l.workflow_id} / ${l.run_id}`, round: l.round,
    generator: `${l.generator.model} (${short(l.generator.model_hash)})`,
    sampling: l.generator.sampling,
    scorers: l.scorers.map((sc) => `${sc.name}@${sc.version}#${sc.config_hash}`).join(", "),
    selection: l.selection,
    dedup: l.dedup.near ? `near ≥ ${l.dedup.near.threshold} (${l.dedup.near.scope}, ${l.dedup.near.bands}×${l.dedup.near.rows} bands, ${l.dedup.near.ngram}-grams)` : "exact ids only",
    decontamination: l.dedup.decontamination ?? "-",
    winnow: l.winnow_version,
    segments: m.segments.map((seg) => `${short(seg.hash)}.${seg.format} (${seg.records})`).join(", ")
  })
  const first = await run(Stream.runHead(s.readRecords(m)))
  if (first._tag === "Some") process.stdout.write(`\nfirst record:\n${JSON.stringify(first.value, null, 2)}\n`)
}

const log: Command = {
  name: "log",
  summary: "Show a dataset's lineage chain, newest first: each version with its campaign, run, generator, what it added, and the generator's held-out pass@1 (with eval).",
  usage: "dataset log <name> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const chain = await run((await store()).log(args.positionals[0]!))
    await printAnswer(args.values.json, chain.map((v) => ({ id: v.id, ...v.manifest })), () => printChain(chain))
    return 0
  }
}

/** A lineage chain for humans: one row per version. */
const printChain = (chain: readonly Version[]): void => {
  const rows = chain.map((v) => {
    const { counts, lineage } = v.manifest
    return {
      version: v.id, sequence: v.manifest.sequence, records: counts.records, added: counts.added,
      dropped: counts.duplicates_dropped + counts.near_duplicates_dropped + counts.contaminated_dropped,
      campaign: lineage.campaign_id, round: lineage.round, run: lineage.run_id,
      generator: `${lineage.generator.model.split("/").pop()} ${short(lineage.generator.model_hash)}`,
      "pass@1": lineage.eval ? fixed(lineage.eval.pass_at_1) : "-",
      created: v.manifest.created_at
    }
  })
  const columns = ["version", "sequence", "records", "added", "dropped", "campaign", "round", "run", "generator", "pass@1", "created"]
  printTable(rows, rows.some((r) => r["pass@1"] !== "-") ? columns : columns.filter((c) => c !== "pass@1"))
}

const diff: Command = {
  name: "diff",
  summary: "Compare two versions: records added and removed (by id) and the score shift, overall and per scorer. B may be @<version> of A's dataset.",
  usage: "dataset diff <name@versionA> <name@versionB | @versionB> [--json]",
  options: JSON_OPTION,
  positionals: { min: 2, max: 2 },
  run: async (args) => {
    const [from, toArg] = args.positionals as [string, string]
    const to = toArg.startsWith("@") ? `${from.split("@")[0]}${toArg}` : toArg
    const result = await run((await store()).diff(from, to))
    await printAnswer(args.values.json, result, () => printDiff(result))
    return 0
  }
}

/** A diff for humans: counts and score shifts, then the per-scorer table. */
const printDiff = (result: VersionDiff): void => {
  printFields({
    from: `${result.from.ref} (${result.from.id}, ${result.from.records} records)`,
    to: `${result.to.ref} (${result.to.id}, ${result.to.records} records)`,
    added: result.added, removed: result.removed, common: result.common,
    "score mean": `${fixed(result.from.score?.mean)} → ${fixed(result.to.score?.mean)} (${fixed(result.scoreShift?.mean)})`,
    "score p50": `${fixed(result.from.score?.p50)} → ${fixed(result.to.score?.p50)} (${fixed(result.scoreShift?.p50)})`,
    "score p90": `${fixed(result.from.score?.p90)} → ${fixed(result.to.score?.p90)} (${fixed(result.scoreShift?.p90)})`
  })
  if (result.scorers.length > 0) {
    process.stdout.write("\n")
    printTable(result.scorers.map((s) => ({ scorer: s.name, from: fixed(s.from), to: fixed(s.to), shift: fixed(s.shift) })), ["scorer", "from", "to", "shift"])
  }
}

const pull: Command = {
  name: "pull",
  summary: "Export a version: TRL SFT `messages` rows, DPO pairs (ultrafeedback_binarized layout), raw records, or LLaMA-Factory sharegpt/alpaca and their preference (ranking) forms sharegpt-dpo/alpaca-dpo (plus a dataset_info.json entry), as JSONL, Parquet or a Hugging Face dataset-repo folder with its card. A schema for a kind of record the version does not hold is refused (exit 2).",
  usage: "dataset pull <name[@version]> --out <path> [--format jsonl|parquet|hf] [--schema sft|dpo|raw|sharegpt|alpaca|sharegpt-dpo|alpaca-dpo] [--name N] [--force] [--license ID] [--rows-per-shard N] [--json]",
  options: {
    ...JSON_OPTION,
    out: { type: "string", short: "o" },
    format: { type: "string" },
    schema: { type: "string" },
    name: { type: "string" },
    force: { type: "boolean" },
    license: { type: "string" },
    "rows-per-shard": { type: "string" }
  },
  descriptions: {
    out: "output file, or folder with --format hf",
    format: `${EXPORT_FORMATS.join(" | ")} (default jsonl; hf = Hugging Face dataset-repo folder)`,
    schema: `${EXPORT_SCHEMAS.join(" | ")} (default sft)`,
    name: "entry name in LLaMA-Factory's dataset_info.json (default: <dataset>-<schema>)",
    force: "replace a non-empty --out folder (format hf), or a dataset_info.json entry of that name describing another file",
    license: "the dataset card's license, a Hugging Face license id such as apache-2.0 (format hf; default other, explained in the card)",
    "rows-per-shard": "rows per data/train-*.parquet shard (format hf, default 500000)"
  },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const out = args.values.out as string | undefined
    if (!out) throw new UsageError("missing --out <path>", helpOf(pull))
    const rowsPerShard = args.values["rows-per-shard"] as string | undefined
    const result = await run((await store()).pull({
      ref: args.positionals[0]!,
      out,
      format: (args.values.format as string | undefined) ?? "jsonl",
      schema: (args.values.schema as string | undefined) ?? "sft",
      ...(args.values.name !== undefined ? { name: args.values.name as string } : {}),
      force: args.values.force === true,
      ...(args.values.license !== undefined ? { license: args.values.license as string } : {}),
      ...(rowsPerShard !== undefined ? { rowsPerShard: /^\d+$/.test(rowsPerShard) ? Number(rowsPerShard) : Number.NaN } : {})
    }))
    await printAnswer(args.values.json, result, () => printFields({ ...result, files: result.files.join(", ") }))
    return 0
  }
}

const tag: Command = {
  name: "tag",
  summary: "Point a tag of a dataset at a version.",
  usage: "dataset tag <name> <tag> <version> [--json]",
  options: JSON_OPTION,
  positionals: { min: 3, max: 3 },
  run: async (args) => {
    const [name, tagName, version] = args.positionals as [string, string, string]
    const v = await run((await store()).tag(name, tagName, version))
    await printAnswer(args.values.json, { dataset: name, tag: tagName, version: v.id }, () => void process.stdout.write(`${name}@${tagName} -> ${v.id}\n`))
    return 0
  }
}

const verify: Command = {
  name: "verify",
  summary: "Re-hash every segment of a version (name@version) or of every version (name). Exit 1 if any is corrupt.",
  usage: "dataset verify <name[@version]> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const report = await run((await store()).verify(args.positionals[0]!))
    const view = { ...report, corrupt: report.corrupt.map((c) => ({ path: c.path, reason: c.reason })) }
    await printAnswer(args.values.json, view, () => printFields(view))
    return report.ok ? 0 : 1
  }
}

const gc: Command = {
  name: "gc",
  summary: "Remove what no dataset needs: segment objects no version or pending staging refers to (staged segments are merged into each commit's own), staging of committed rounds, partial writes; with --work also committed rounds' work files, with --abandon a dead campaign's pending rounds; manifests no chain reaches and empty campaign folders. What a writer may still be using (objects, manifests, partial writes younger than an hour) stays.",
  usage: "dataset gc [--dry-run] [--work] [--abandon <campaign-id>[,<campaign-id>…]] [--json]",
  options: { ...JSON_OPTION, "dry-run": { type: "boolean" }, work: { type: "boolean" }, abandon: { type: "string" } },
  descriptions: {
    "dry-run": "report what would be removed, remove nothing",
    work: "also remove the work files (samples and scores) of committed rounds kept by output.keep_work",
    abandon: "campaigns that will never commit again (cancelled or failed): remove their pending staging and work files too"
  },
  positionals: { min: 0, max: 0 },
  run: async (args) => {
    const abandon = typeof args.values.abandon === "string" ? args.values.abandon.split(",").map((id) => id.trim()) : []
    const report = await run((await store()).gc({ dryRun: args.values["dry-run"] === true, work: args.values.work === true, abandon }))
    await printAnswer(args.values.json, report, () => printFields({ ...report, objects: `${report.objects.files} files, ${mebibytes(report.objects.bytes)}`, partialWrites: `${report.partialWrites.files} files, ${mebibytes(report.partialWrites.bytes)}` }))
    return 0
  }
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

/** `winnow dataset <list|show|log|diff|pull|tag|verify|gc>`. */
export const datasetCommands = (_log: Logger): Command[] => [list, show, log, diff, pull, tag, verify, gc]
