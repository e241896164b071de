import { writeFileSync } from "node:fs"
import { Effect } from "effect"
import type { Logger } from "pino"
import type { PromptRecord } from "../../campaign/prompts.js"
import { storeRoot } from "../../core/home.js"
import { promptSets } from "../../datasets/promptSets.js"
import { readPromptSet, workArea } from "../../datasets/workArea.js"
import { type Command, UsageError } from "../args.js"
import { readCliConfig } from "../config.js"
import { printAnswer, printFields, printTable } from "../output.js"

const root = () => storeRoot(readCliConfig(process.env).home)
const JSON_OPTION = { json: { type: "boolean" } } as const

/** `name` or `name@sequence`. */
const parseName = (ref: string): { name: string; sequence?: number } => {
  const [name, at] = ref.split("@")
  if (at === undefined) return { name: name! }
  if (!/^\d+$/.test(at)) throw new UsageError(`a prompt set version is a sequence number: got ${JSON.stringify(at)} in ${ref}`, "Usage: winnow prompts pull <name[@sequence]> --out FILE")
  return { name: name!, sequence: Number(at) }
}

const log: Command = {
  name: "log",
  summary: "Show a prompt dataset's versions, newest first: prompts, how many each added, by which campaign, round and operators.",
  usage: "prompts log <name> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const versions = await Effect.runPromise(promptSets(root()).log(args.positionals[0]!))
    const rows = versions.map((v) => ({
      sequence: v.sequence, prompts: v.prompts.count, added: v.added, campaign: v.lineage.campaign_id, round: v.lineage.round,
      operators: Object.entries(v.lineage.operators).map(([name, t]) => `${name} ${(t as { kept?: number }).kept ?? 0}`).join(", "), created: v.created_at
    }))
    await printAnswer(args.values.json, versions, () => (rows.length === 0 ? printFields({ versions: "none" }) : printTable(rows, ["sequence", "prompts", "added", "campaign", "round", "operators", "created"])))
    return 0
  }
}

const pull: Command = {
  name: "pull",
  summary: "Write a prompt dataset version as a prompt file (JSONL: id, messages, reference), usable as a spec's prompts.",
  usage: "prompts pull <name[@sequence]> --out FILE [--json]",
  options: { ...JSON_OPTION, out: { type: "string" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const out = args.values.out as string | undefined
    if (!out) throw new UsageError("--out is required", "Usage: winnow prompts pull <name[@sequence]> --out FILE")
    const { name, sequence } = parseName(args.positionals[0]!)
    const version = await Effect.runPromise(promptSets(root()).resolve(name, sequence))
    const rows = await Effect.runPromise(readPromptSet<PromptRecord>(workArea(root()), version.prompts))
    writeFileSync(out, rows.map(({ id, messages, reference }) => JSON.stringify({ id, messages, ...(reference !== undefined ? { reference } : {}) })).join("\n") + "\n")
    await printAnswer(args.values.json, { name, sequence: version.sequence, prompts: rows.length, path: out }, () => printFields({ name, sequence: version.sequence, prompts: rows.length, path: out }))
    return 0
  }
}

/** `winnow prompts …`: the prompt datasets the prompt stage writes. */
export const promptsCommands = (_log: Logger): Command[] => [log, pull]
