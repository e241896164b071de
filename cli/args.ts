import { parseArgs, type ParseArgsConfig } from "node:util"

/** Bad command-line usage: the CLI prints the message and the command's help, and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError"
  constructor(message: string, readonly help: string) {
    super(message)
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>

/** A CLI command: its usage text, its options and what it does. */
export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: Options
  readonly positionals: { readonly min: number; readonly max: number }
  /** Help text of options whose meaning differs from the shared descriptions (e.g. `--port`). */
  readonly descriptions?: Readonly<Record<string, string>>
  run(args: ParsedArgs): Promise<number>
}

/** Parsed positionals and option values of one invocation. */
export interface ParsedArgs {
  readonly positionals: string[]
  readonly values: Record<string, string | boolean | undefined>
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Options = {
  help: { type: "boolean", short: "h" }
}

/** Renders a command's help text from its definition. */
export const helpOf = (command: Command): string => {
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, option]): [string, string] => [
    `${option.short ? `-${option.short}, ` : "    "}--${name}${option.type === "string" ? " <value>" : ""}`,
    command.descriptions?.[name] ?? describe(name)
  ])
  return [`Usage: winnow ${command.usage}`, "", command.summary, "", "Options:", ...twoColumns(options, 30)].join("\n")
}

/**
 * Help rows as two columns: each left text padded to `width`, or, when it does not fit, on a line
 * of its own with its description indented below it. Use for every list of commands or options.
 */
export const twoColumns = (rows: ReadonlyArray<readonly [string, string]>, width: number): string[] =>
  rows.flatMap(([left, right]) => {
    const head = `  ${left}`
    return head.length < width ? [`${head.padEnd(width)}${right}`] : [head, `${" ".repeat(width)}${right}`]
  })

/** The first sentence of a command's summary, for one-line listings. */
export const firstSentence = (summary: string): string => summary.split(/(?<=\.) /)[0]!.replace(/\.$/, "")

const DESCRIPTIONS: Record<string, string> = {
  help: "show this help",
  json: "print one JSON object (machine-readable) instead of text",
  wait: "wait until the campaign finishes",
  "task-queue": "Temporal task queue (default WINNOW_TASK_QUEUE or \"winnow\")",
  format: "output file format: jsonl (default)",
  schema: "record schema: sft (default) or dpo",
  out: "output file path",
  threads: "inference threads in this worker, sharing the cores (default: one per core)",
  port: "Temporal gRPC port (default 7233)",
  "ui-port": "Temporal Web UI port (default 8233)",
  "no-progress": "do not draw a progress bar"
}

const describe = (name: string): string => DESCRIPTIONS[name] ?? ""

/** Parses argv for a command; unknown flags and wrong positional counts are usage errors. */
export const parseCommandArgs = (command: Command, argv: string[]): ParsedArgs & { help: boolean } => {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: { ...command.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError((e as Error).message, helpOf(command))
  }
  const help = parsed.values.help === true
  if (!help) {
    const count = parsed.positionals.length
    if (count < command.positionals.min) throw new UsageError(`missing argument: ${command.usage}`, helpOf(command))
    if (count > command.positionals.max) throw new UsageError(`unexpected argument: ${parsed.positionals[command.positionals.max]}`, helpOf(command))
  }
  return { positionals: parsed.positionals, values: parsed.values as ParsedArgs["values"], help }
}
