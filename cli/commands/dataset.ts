import { Effect, Stream } from "effect"
import type { Logger } from "pino"
import { storeRoot } from "../../core/home.js"
import { DatasetStore } from "../../datasets/store.js"
import { type Command, helpOf, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { printFields, printJson, printTable } from "../output.js"

const store = () => DatasetStore.make(storeRoot(readCliConfig(process.env).home))
const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => Effect.runPromise(effect.pipe(Effect.mapError((e) => e as Error)))
const JSON_OPTION = { json: { type: "boolean" } } as const

const list: Command = {
  name: "list",
  summary: "List datasets with their head version.",
  usage: "dataset list [--json]",
  options: JSON_OPTION,
  positionals: { min: 0, max: 0 },
  run: async (args) => {
    const rows = await run(store().list())
    if (args.values.json) printJson(rows)
    else printTable(rows.map((r) => ({ ...r })), ["name", "head", "sequence", "records", "updated_at"])
    return 0
  }
}

const show: Command = {
  name: "show",
  summary: "Show a version's manifest: counts, score statistics, lineage. Without --json, a first record too.",
  usage: "dataset show <name[@version]> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const s = store()
    const version = await run(s.resolve(args.positionals[0]!))
    if (args.values.json) {
      printJson({ id: version.id, ...version.manifest })
      return 0
    }
    const m = version.manifest
    printFields({
      dataset: m.dataset, version: version.id, sequence: m.sequence, parent: m.parent ?? "-", created: m.created_at,
      records: m.counts.records, added: m.counts.added, duplicates_dropped: m.counts.duplicates_dropped,
      score: m.score_stats, campaign: m.lineage.campaign_id, round: m.lineage.round,
      generator: `${m.lineage.generator.model} (${m.lineage.generator.model_hash.slice(0, 12)})`,
      sampling: m.lineage.generator.sampling,
      scorers: m.lineage.scorers.map((sc) => `${sc.name}@${sc.version}#${sc.config_hash}`).join(", ")
    })
    const first = await run(Stream.runHead(s.readRecords(m)))
    if (first._tag === "Some") process.stdout.write(`\nfirst record:\n${JSON.stringify(first.value, null, 2)}\n`)
    return 0
  }
}

const log: Command = {
  name: "log",
  summary: "Show a dataset's version chain, newest first.",
  usage: "dataset log <name> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const chain = await run(store().log(args.positionals[0]!))
    const rows = chain.map((v) => ({
      version: v.id, sequence: v.manifest.sequence, parent: v.manifest.parent ?? "-", records: v.manifest.counts.records,
      added: v.manifest.counts.added, campaign: v.manifest.lineage.campaign_id, round: v.manifest.lineage.round, created: v.manifest.created_at
    }))
    if (args.values.json) printJson(rows)
    else printTable(rows, ["version", "sequence", "records", "added", "campaign", "round", "created"])
    return 0
  }
}

const pull: Command = {
  name: "pull",
  summary: "Write a version's records to a file (TRL SFT `messages` rows with scores, or DPO pairs).",
  usage: "dataset pull <name[@version]> --out <file> [--format jsonl] [--schema sft|dpo] [--json]",
  options: { ...JSON_OPTION, out: { type: "string", short: "o" }, format: { type: "string" }, schema: { type: "string" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const out = args.values.out as string | undefined
    if (!out) throw new UsageError("missing --out <file>", helpOf(pull))
    const result = await run(store().pull({
      ref: args.positionals[0]!, out, format: (args.values.format as string | undefined) ?? "jsonl", schema: (args.values.schema as string | undefined) ?? "sft"
    }))
    if (args.values.json) printJson(result)
    else printFields({ ...result })
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
    const v = await run(store().tag(name, tagName, version))
    if (args.values.json) printJson({ dataset: name, tag: tagName, version: v.id })
    else process.stdout.write(`${name}@${tagName} -> ${v.id}\n`)
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
    const report = await run(store().verify(args.positionals[0]!))
    const view = { ...report, corrupt: report.corrupt.map((c) => ({ path: c.path, reason: c.reason })) }
    if (args.values.json) printJson(view)
    else printFields(view)
    return report.ok ? 0 : 1
  }
}

/** `winnow dataset <list|show|log|pull|tag|verify>`. */
export const datasetCommands = (_log: Logger): Command[] => [list, show, log, pull, tag, verify]
