import type { Logger } from "pino"
import { specJsonSchema } from "../../campaign/jsonSchema.js"
import type { Command } from "../args.js"
import { printAnswer, printJson } from "../output.js"
import { checkPromptsFit, loadSpecFile } from "../specFile.js"

const validate: Command = {
  name: "validate",
  summary: "Check a campaign spec (fields, prompt files line by line, model directories, prompts that fit the generator) without starting anything.",
  usage: "spec validate <spec.yaml> [--json]",
  options: { json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: async (args) => {
    const loaded = loadSpecFile(args.positionals[0]!)
    await checkPromptsFit(loaded.spec, loaded.path)
    await printAnswer(args.values.json, { ok: true, hash: loaded.hash, spec: loaded.spec }, () => void process.stdout.write(`ok: ${loaded.path} (spec hash ${loaded.hash})\n`))
    return 0
  }
}

const schema: Command = {
  name: "schema",
  summary: "Print the JSON Schema of campaign specs (for editor completion and checks).",
  usage: "spec schema",
  options: {},
  positionals: { min: 0, max: 0 },
  run: async () => {
    printJson(specJsonSchema())
    return 0
  }
}

/** `winnow spec <validate|schema>`. */
export const specCommands = (_log: Logger): Command[] => [validate, schema]
