import { existsSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import type { Logger } from "pino"
import { type ModelManifest, modelStore } from "../../models/modelStore.js"
import { GGUF_QUANT_TYPES, type GgufQuantType, quantizeGguf } from "../../models/llamaCpp/native.js"
import { type Command, UsageError } from "../args.js"
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

const QUANTIZE_USAGE = `model quantize <model-dir> --to <${Object.keys(GGUF_QUANT_TYPES).join("|")}> [--from <name>] [--pure] [--threads N] [--json]`

const quantize: Command = {
  name: "quantize",
  summary: "Quantize a model directory's F32/F16 GGUF file with llama.cpp's own quantizer into gguf/model-<type>.gguf (then generator.variant: gguf:<type>).",
  usage: QUANTIZE_USAGE,
  options: { ...JSON_OPTION, to: { type: "string" }, from: { type: "string" }, pure: { type: "boolean" }, threads: { type: "string" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const dir = resolve(args.positionals[0]!)
    const help = `Usage: winnow ${QUANTIZE_USAGE}`
    const to = args.values.to as string | undefined
    if (to === undefined || !(to in GGUF_QUANT_TYPES)) throw new UsageError(`--to: got ${JSON.stringify(to)}, expected one of ${Object.keys(GGUF_QUANT_TYPES).join(", ")}`, help)
    const threads = args.values.threads === undefined ? 1 : Number(args.values.threads)
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UsageError(`--threads: got ${JSON.stringify(args.values.threads)}, expected a whole number from 1 to 256`, help)
    const sources = (args.values.from === undefined ? ["f32", "f16", "bf16"] : [args.values.from as string]).map((name) => join(dir, "gguf", `model-${name}.gguf`))
    const input = sources.find((file) => existsSync(file))
    if (!input) throw new UsageError(`${args.values.from === undefined ? "<model-dir>" : "--from"}: no ${sources.map((f) => f.slice(dir.length + 1)).join(" or ")} in ${dir}; expected an unquantized GGUF file there (llama.cpp's convert_hf_to_gguf.py writes one)`, help)
    const output = join(dir, "gguf", `model-${to}.gguf`)
    await quantizeGguf(input, output, to as GgufQuantType, { pure: args.values.pure === true, threads })
    await printAnswer(args.values.json, { input, output, type: to, variant: `gguf:${to}`, bytes: statSync(output).size }, () =>
      void process.stdout.write(`${output} (${Math.round(statSync(output).size / 2 ** 20)} MiB): use generator.variant: gguf:${to}\n`))
    return 0
  }
}

/** `winnow model …`: the trained generators in the model store, and GGUF quantization of a model directory. */
export const modelCommands = (_log: Logger): Command[] => [list, show, quantize]
