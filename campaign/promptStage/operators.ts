import type { DifficultySpec } from "./arithmetic.js"
import { LENGTH_DEFAULTS, type LengthLimits } from "./candidates.js"
import { DECONTAMINATION_DEFAULTS, type DecontaminationOptions } from "./decontamination.js"
import { EVOL_OPERATIONS, type EvolOperation } from "./evolInstruct.js"
import { PROMPT_LANGUAGES, type PromptLanguage } from "./language.js"

/**
 * The prompt-writing operators a spec can name, each with its default settings, in one place.
 * Settings use the spec's snake_case; a spec entry overrides any of them.
 */

/** Settings of Self-Instruct: examples shown per request and new tasks asked for. */
export interface SelfInstructSettings {
  readonly examples: number
  readonly new_per_request: number
  readonly langs: readonly PromptLanguage[]
}

/** Settings of Evol-Instruct: the operations drawn from, uniformly. */
export interface EvolInstructSettings {
  readonly operations: readonly EvolOperation[]
  readonly langs: readonly PromptLanguage[]
}

/** Settings of Magpie: the system prompt before the empty user turn (none by default). */
export interface MagpieSettings {
  readonly system?: string
}

/** Settings of the arithmetic generator: problems per round, difficulty, languages. */
export interface ArithmeticSettings {
  readonly count: number
  readonly difficulty: DifficultySpec
  readonly langs: readonly PromptLanguage[]
}

/** Screening every model-written prompt goes through (not arithmetic, whose problems are exact). */
export interface ScreeningSettings {
  readonly min_units: number
  readonly max_units: number
  readonly decontamination: { readonly cjk_n: number; readonly latin_n: number; readonly threshold: number }
}

/** Each operator name with its settings' shape. */
export interface PromptOperatorSettings {
  readonly self_instruct: SelfInstructSettings & ScreeningSettings
  readonly evol_instruct: EvolInstructSettings & ScreeningSettings
  readonly magpie: MagpieSettings & ScreeningSettings
  readonly arithmetic: ArithmeticSettings
}

/** The operator names a spec can use. */
export type PromptOperatorName = keyof PromptOperatorSettings

/** One operator as a spec names it, with its settings resolved. */
export type PromptOperator = { [K in PromptOperatorName]: { readonly name: K; readonly settings: PromptOperatorSettings[K] } }[PromptOperatorName]

const SCREENING: ScreeningSettings = {
  min_units: LENGTH_DEFAULTS.minUnits,
  max_units: LENGTH_DEFAULTS.maxUnits,
  decontamination: { cjk_n: DECONTAMINATION_DEFAULTS.cjkN, latin_n: DECONTAMINATION_DEFAULTS.latinN, threshold: DECONTAMINATION_DEFAULTS.threshold }
}

/**
 * Default settings per operator. Self-Instruct shows 8 examples as the paper does (it mixes 6
 * human-written and 2 generated ones) and asks for 8; arithmetic writes 64 problems of 1–3
 * operations a round; all alternate Chinese and English.
 */
export const PROMPT_OPERATOR_DEFAULTS: PromptOperatorSettings = {
  self_instruct: { examples: 8, new_per_request: 8, langs: PROMPT_LANGUAGES, ...SCREENING },
  evol_instruct: { operations: EVOL_OPERATIONS, langs: PROMPT_LANGUAGES, ...SCREENING },
  magpie: { ...SCREENING },
  arithmetic: { count: 64, difficulty: { min: 1, max: 3 }, langs: PROMPT_LANGUAGES }
}

/** Every operator name, for validating a spec and listing choices in errors. */
export const PROMPT_OPERATOR_NAMES = Object.keys(PROMPT_OPERATOR_DEFAULTS) as PromptOperatorName[]

/** True when a string names a prompt operator. */
export const isPromptOperatorName = (name: string): name is PromptOperatorName => (PROMPT_OPERATOR_NAMES as string[]).includes(name)

/**
 * An operator with a spec's overrides laid over its defaults (shallow: an override replaces a
 * whole setting, e.g. all of `decontamination`).
 */
export const resolvePromptOperator = <K extends PromptOperatorName>(name: K, overrides: Partial<PromptOperatorSettings[K]> = {}): { name: K; settings: PromptOperatorSettings[K] } => ({
  name,
  settings: { ...PROMPT_OPERATOR_DEFAULTS[name], ...overrides }
})

/** The screening settings of an operator as `screenCandidates` and `buildEvalIndex` take them. */
export const screeningOf = (settings: ScreeningSettings): { limits: LengthLimits; decontamination: DecontaminationOptions } => ({
  limits: { minUnits: settings.min_units, maxUnits: settings.max_units },
  decontamination: { cjkN: settings.decontamination.cjk_n, latinN: settings.decontamination.latin_n, threshold: settings.decontamination.threshold }
})
