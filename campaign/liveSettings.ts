import { LIMITS } from "../core/defaults.js"
import type { CampaignSpec } from "./spec.js"

/**
 * The settings a running campaign accepts through `winnow campaign set` (a Temporal update):
 * sampling, selection, budget and the shard window. Pure and dependency-free, so the workflow's
 * update validator runs it; the CLI also decodes the changed spec with the full schema first, so
 * a refusal reads exactly like `spec validate`'s.
 */

/** One issue with a requested change: the key, the value, what was expected. */
export interface ChangeIssue {
  readonly path: string
  readonly value: unknown
  readonly expected: string
}

type Check = (value: unknown) => string | undefined

const between = (min: number, max: number, integer: boolean): Check => (value) =>
  typeof value === "number" && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max
    ? undefined
    : `a value between ${min} and ${max}${integer ? " (a whole number)" : ""}`

const finite: Check = (value) => (typeof value === "number" && Number.isFinite(value) ? undefined : "a finite number")

/** Every key `set` may change, with what it accepts. */
export const LIVE_KEYS: Readonly<Record<string, Check>> = {
  "generator.n": between(1, LIMITS.maxSamplesPerPrompt, true),
  "generator.temperature": between(0, 10, false),
  "generator.top_p": between(0, 1, false),
  "generator.top_k": between(0, 1_000_000, true),
  "generator.min_p": between(0, 1, false),
  "generator.max_new_tokens": between(1, LIMITS.maxNewTokens, true),
  "selection.min_score": finite,
  "selection.k": between(1, LIMITS.maxSamplesPerPrompt, true),
  "selection.accept_until": between(1, 1_000_000_000, true),
  "sharding.max_concurrent_shards": between(1, LIMITS.maxConcurrentShards, true),
  "budget.samples": between(0, Number.MAX_SAFE_INTEGER, false),
  "budget.tokens": between(0, Number.MAX_SAFE_INTEGER, false),
  "budget.seconds": between(0, Number.MAX_SAFE_INTEGER, false),
  "budget.usd": between(0, Number.MAX_SAFE_INTEGER, false)
}

/** What is wrong with a requested change (unknown keys, values out of range); empty when it can be applied. */
export const checkLiveChange = (values: Readonly<Record<string, unknown>>): ChangeIssue[] => {
  const keys = Object.keys(values)
  if (keys.length === 0) return [{ path: "(change)", value: values, expected: "at least one key=value" }]
  return keys.flatMap((key): ChangeIssue[] => {
    const check = LIVE_KEYS[key]
    if (check === undefined) return [{ path: key, value: values[key], expected: `one of the settings a running campaign accepts: ${Object.keys(LIVE_KEYS).join(", ")}` }]
    const expected = check(values[key])
    return expected === undefined ? [] : [{ path: key, value: values[key], expected }]
  })
}

/** The spec with a (checked) change applied: `section.key` sets that key of that section. */
export const applyLiveChange = (spec: CampaignSpec, values: Readonly<Record<string, unknown>>): CampaignSpec => {
  const next: Record<string, Record<string, unknown>> = { generator: { ...spec.generator }, selection: { ...spec.selection }, sharding: { ...spec.sharding }, budget: { ...spec.budget } }
  for (const [key, value] of Object.entries(values)) {
    const [section, field] = key.split(".") as [string, string]
    next[section]![field] = value
  }
  const touchesBudget = spec.budget !== undefined || Object.keys(values).some((key) => key.startsWith("budget."))
  const { budget, ...rest } = next as unknown as Pick<CampaignSpec, "generator" | "selection" | "sharding" | "budget">
  return { ...spec, ...rest, ...(touchesBudget ? { budget } : {}) }
}

/** `key=value` words as a change: numbers and booleans as JSON, anything else as text. */
export const parseChangeWords = (words: readonly string[]): { values: Record<string, unknown>; issues: ChangeIssue[] } => {
  const values: Record<string, unknown> = {}
  const issues: ChangeIssue[] = []
  for (const word of words) {
    const at = word.indexOf("=")
    if (at <= 0) {
      issues.push({ path: word, value: word, expected: "key=value, e.g. generator.temperature=0.7" })
      continue
    }
    const text = word.slice(at + 1)
    let value: unknown = text
    try {
      value = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    values[word.slice(0, at)] = value
  }
  return { values, issues }
}

/** One accepted change: its number, when it was made (workflow time), and what it set. */
export interface SettingsRevision {
  readonly revision: number
  readonly at: string
  readonly values: Readonly<Record<string, unknown>>
}

/** What `pause`, `resume` and `set` answer: the state after the change. */
export interface ControlState {
  readonly paused: boolean
  readonly revision: number
  readonly revisions: readonly SettingsRevision[]
}

/** The live state of a campaign's settings, carried through continue-as-new. */
export interface CarriedControl {
  readonly paused: boolean
  readonly revisions: readonly SettingsRevision[]
}
