import { Effect } from "effect"
import type { Logger } from "pino"
import { type ModelManifest, modelStore } from "../../models/modelStore.js"
import type { Command } from "../args.js"
import { readCliConfig } from "../config.js"
import { printAnswer, printFields, printTable } from "../output.js"

const models = () => modelStore(readCliConfig(process.env).home)
const JSON_OPTION = { json: { type: "boolean" } } as const
const short = (hash: string) => hash.slice(0, 12)

const trainerOf = (m: ModelManifest): string =>
  m.trainer.kind === "bundled" ? `bundled ${m.trainer.method ?? ""}`.trim() : `command: ${m.trainer.command ?? ""}`

const list: Command = {
  name: "list",
  summary: "List the generators the improve step trained (under WINNOW_HOME/models), newest first.",
  usage: "model list [--json]",
  options: JSON_OPTION,
  positionals: { min: 0, max: 0 },
  run: async (args) => {
    const found = await Effect.runPromise(models().list())
    const rows = found.map(({ manifest: m, path }) => ({
      id: short(m.id), created: m.created_at, campaign: m.campaign.id, round: m.campaign.round,
      dataset: `${m.dataset.name}@${short(m.dataset.version)}`, records: m.dataset.records, base: short(m.base.model_hash), trainer: trainerOf(m), path
    }))
    await printAnswer(args.values.json, found.map((m) => ({ ...m.manifest, path: m.path })), () => printTable(rows, ["id", "created", "campaign", "round", "dataset", "records", "base", "trainer"]))
    return 0
  }
}

const show: Command = {
  name: "show",
  summary: "Show one trained model: its folder and lineage (base model, dataset version, trainer and settings, metrics).",
  usage: "model show <id or id prefix> [--json]",
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const { manifest: m, path } = await Effect.runPromise(models().show(args.positionals[0]!))
    await printAnswer(args.values.json, { ...m, path }, () => printFields({
      id: m.id, path, created: m.created_at, "model hash": m.model_hash,
      base: `${m.base.path} (${short(m.base.model_hash)})`,
      dataset: `${m.dataset.name}@${m.dataset.version} (${m.dataset.records} records, data ${short(m.dataset.data_hash)})`,
      campaign: `${m.campaign.id}, round ${m.campaign.round}`,
      trainer: trainerOf(m), "trainer version": m.trainer.version, settings: m.trainer.settings, metrics: m.metrics,
      ...(m.resumed_from_step !== undefined ? { "resumed from step": m.resumed_from_step } : {})
    }))
    return 0
  }
}

/** `winnow model …`: the trained generators in the model store. */
export const modelCommands = (_log: Logger): Command[] => [list, show]
