import { Result } from "effect"
import type { Logger } from "pino"
import { applyLiveChange, checkLiveChange, type ControlState, parseChangeWords } from "../../campaign/liveSettings.js"
import { type CampaignSpec, decodeSpec } from "../../campaign/spec.js"
import { InputInvalid } from "../../core/errors.js"
import { pauseUpdate, resumeUpdate, setUpdate, specQuery } from "../../workflows/control.js"
import type { Command } from "../args.js"
import { readCliConfig } from "../config.js"
import { printAnswer, printFields } from "../output.js"
import { withSession } from "../session.js"

const JSON_OPTION = { json: { type: "boolean" } } as const

const printState = (json: unknown, campaignId: string, state: ControlState) =>
  printAnswer(json, { campaignId, ...state }, () => printFields({
    campaign: campaignId, paused: state.paused, revision: state.revision,
    ...(state.revisions.length > 0 ? { latest: `${state.revisions.at(-1)!.at} ${JSON.stringify(state.revisions.at(-1)!.values)}` } : {})
  }))

const simple = (log: Logger, name: "pause" | "resume", summary: string): Command => ({
  name,
  summary,
  usage: `campaign ${name} <campaign-id> [--json]`,
  options: JSON_OPTION,
  positionals: { min: 1, max: 1 },
  run: async (args) => withSession(readCliConfig(process.env), log, "attach", async (session) => {
    const handle = session.client.workflow.getHandle(args.positionals[0]!)
    const state = await handle.executeUpdate(name === "pause" ? pauseUpdate : resumeUpdate)
    await printState(args.values.json, handle.workflowId, state)
    return 0
  })
})

/**
 * The change as the campaign's spec would take it: refused (exit 2), before anything is sent,
 * with the same messages as `spec validate`.
 */
const checkedChange = (campaignId: string, spec: CampaignSpec, words: readonly string[]): Record<string, unknown> => {
  const { values, issues } = parseChangeWords(words)
  const source = `campaign ${campaignId}`
  const problems = [...issues, ...checkLiveChange(values)]
  if (problems.length > 0) throw new InputInvalid({ source, issues: problems })
  const decoded = decodeSpec(applyLiveChange(spec, values), source)
  if (Result.isFailure(decoded)) throw decoded.failure
  return values
}

const set = (log: Logger): Command => ({
  name: "set",
  summary: "Change a running campaign's settings: generator n, temperature, top_p, top_k, min_p, max_new_tokens; selection min_score, k, accept_until; sharding max_concurrent_shards. Shards launched afterwards use them; every change is a numbered revision.",
  usage: "campaign set <campaign-id> key=value [key=value …] [--json]",
  options: JSON_OPTION,
  positionals: { min: 2, max: 64 },
  run: async (args) => withSession(readCliConfig(process.env), log, "attach", async (session) => {
    const [campaignId, ...words] = args.positionals as [string, ...string[]]
    const handle = session.client.workflow.getHandle(campaignId)
    const values = checkedChange(campaignId, await handle.query(specQuery), words)
    const state = await handle.executeUpdate(setUpdate, { args: [values] })
    await printState(args.values.json, campaignId, state)
    return 0
  })
})

/** `winnow campaign pause|resume|set`: steer a running campaign through workflow updates. */
export const controlCommands = (log: Logger): Command[] => [
  simple(log, "pause", "Pause a running campaign at shard boundaries: running shards finish and are kept; none starts until resume."),
  simple(log, "resume", "Let a paused campaign start shards again."),
  set(log)
]
