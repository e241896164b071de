import type { Logger } from "pino"
import { createLogger } from "../worker/logger.js"
import { type Command, firstSentence, helpOf, parseCommandArgs, twoColumns, UsageError } from "./args.js"
import { campaignCommands, demoCommand, runCommand, unknownSubcommand } from "./commands/campaign.js"
import { datasetCommands } from "./commands/dataset.js"
import { modelCommands } from "./commands/model.js"
import { promptsCommands } from "./commands/prompts.js"
import { reportCommand } from "./commands/report.js"
import { reviewCommand } from "./commands/review.js"
import { openaiServeCommand } from "./commands/openaiServe.js"
import { devCommand, workerCommand } from "./commands/serve.js"
import { specCommands } from "./commands/spec.js"
import { reportFailure } from "./failures.js"
import { winnowVersion } from "../core/version.js"

const TOP_HELP = (groups: Record<string, Command[]>, singles: Command[]) =>
  [
    "winnow — self-play synthetic data generation on Temporal",
    "",
    "Usage: winnow <command> [options]   (every command takes --help)",
    "",
    ...twoColumns([...singles, ...Object.values(groups).flat()].map((c) => [c.usage, firstSentence(c.summary)]), 54),
    "",
    "Environment: TEMPORAL_ADDRESS (cluster; unset = embedded dev server), TEMPORAL_NAMESPACE, WINNOW_HOME (default ~/.winnow),",
    "             WINNOW_TASK_QUEUE, WINNOW_LOG_LEVEL, WINNOW_MODEL_MEMORY_GIB, TEMPORAL_CLI_PATH.",
    "Exit codes:  0 ok, 1 failure, 2 bad usage or input, 3 a campaign completed without the data asked for."
  ].join("\n")

/** Long-running commands log at info by default; one-shot commands only warn, so output stays readable. */
const SERVER_COMMANDS = new Set(["worker", "dev", "serve", "review"])

/** Resolves argv to a command and the arguments left for it. */
const route = (argv: string[], log: Logger): { command: Command; rest: string[] } | { help: string; exit: number } => {
  const singles = [runCommand(log), demoCommand(log), workerCommand(log), devCommand(log), openaiServeCommand(log), reportCommand(log), reviewCommand(log)]
  const groups: Record<string, Command[]> = { campaign: campaignCommands(log), dataset: datasetCommands(log), model: modelCommands(log), prompts: promptsCommands(log), spec: specCommands(log) }
  const [first, second, ...rest] = argv
  if (first === undefined || first === "--help" || first === "-h" || first === "help") return { help: TOP_HELP(groups, singles), exit: first === undefined ? 2 : 0 }
  if (first === "--version" || first === "-v") return { help: winnowVersion(), exit: 0 }
  const single = singles.find((c) => c.name === first)
  if (single) return { command: single, rest: argv.slice(1) }
  const group = groups[first]
  if (!group) throw new UsageError(`unknown command: ${first}`, TOP_HELP(groups, singles))
  if (second === "--help" || second === "-h") throw Object.assign(unknownSubcommand(first, undefined, group), { exitCode: 0 })
  const command = group.find((c) => c.name === second)
  if (!command) throw unknownSubcommand(first, second, group)
  return { command, rest }
}

/** Runs the CLI and returns the process exit code: 0 ok, 1 failure, 2 bad usage or input. */
export const main = async (argv: string[]): Promise<number> => {
  const log = createLogger(process.env, SERVER_COMMANDS.has(argv[0] ?? "") ? "info" : "warn")
  try {
    const routed = route(argv, log)
    if ("help" in routed) {
      ;(routed.exit === 0 ? process.stdout : process.stderr).write(`${routed.help}\n`)
      return routed.exit
    }
    const args = parseCommandArgs(routed.command, routed.rest)
    if (args.help) {
      process.stdout.write(`${helpOf(routed.command)}\n`)
      return 0
    }
    return await routed.command.run(args)
  } catch (error) {
    if (error instanceof UsageError) {
      const exit = (error as UsageError & { exitCode?: number }).exitCode ?? 2
      if (exit !== 0) process.stderr.write(`winnow: ${error.message}\n\n`)
      ;(exit === 0 ? process.stdout : process.stderr).write(`${error.help}\n`)
      return exit
    }
    const reported = reportFailure(error)
    log.debug({ err: error }, "command failed")
    if (argv.includes("--json")) process.stderr.write(`${JSON.stringify({ error: { code: reported.code, message: reported.message, exit: reported.exit, ...(reported.issues ? { issues: reported.issues } : {}) } })}\n`)
    else process.stderr.write(`winnow: error [${reported.code}]: ${reported.message}\n`)
    return reported.exit
  } finally {
    log.flush?.()
  }
}
