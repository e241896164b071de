import { Schema } from "effect"
import { DEFAULTS, GGUF_VARIANT_PREFIX } from "../core/defaults.js"
import type { InputIssue } from "../core/errors.js"
import { int, NonEmpty, Unit, withDefault } from "./specFields.js"

/**
 * `improve`: after each round's commit, a trainer turns the committed records into the next
 * round's generator. `trainer: bundled` runs winnow's trainer (TRL, SFT on kept records or DPO on
 * pairs) in a pinned Python environment winnow creates; `trainer: command` runs the user's
 * command with `{data}`, `{pairs}`, `{base}`, `{out}`, `{work}` and `{settings}` filled in (see
 * `trainers/README.md`). `from: base` trains the base model every round (ReST-EM), `previous`
 * the last round's model. `data: round` trains on what this round added, `all` on every record
 * the campaign has committed so far. `base` is the model to train (a directory holding PyTorch
 * weights beside the ONNX export), by default `generator.model`. The activity runs on
 * `task_queue` (a worker started with `winnow worker --task-queue …`), by default the campaign's.
 */
export const ImproveSpec = Schema.Struct({
  trainer: Schema.Literals(["bundled", "command"]).pipe(withDefault(DEFAULTS.improve.trainer)),
  method: Schema.Literals(["sft", "dpo"]).pipe(withDefault(DEFAULTS.improve.method)),
  from: Schema.Literals(["base", "previous"]).pipe(withDefault(DEFAULTS.improve.from)),
  data: Schema.Literals(["round", "all"]).pipe(withDefault(DEFAULTS.improve.data)),
  base: Schema.optionalKey(NonEmpty),
  command: Schema.optionalKey(NonEmpty),
  settings: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  task_queue: Schema.optionalKey(NonEmpty),
  timeout_hours: Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0.01, maximum: 24 * 30 })), withDefault(DEFAULTS.improve.timeout_hours)),
  heartbeat_seconds: int(5, 3600).pipe(withDefault(DEFAULTS.improve.heartbeat_seconds))
})
/** `improve` with defaults filled in. */
export type ImproveSpec = typeof ImproveSpec.Type

/**
 * `eval`: a held-out prompt file with references, kept apart from the training prompts (any
 * training prompt that overlaps one is dropped), sampled `n` times per prompt by each round's
 * generator (with the generator's sampling unless `temperature` is set) and checked by the
 * campaign's verifier scorers (or those `verifiers` names): pass@1, pass@k and the mean of every
 * score, each round.
 */
export const EvalSpec = Schema.Struct({
  prompts: NonEmpty,
  /** The verifier scorers whose acceptance makes a sample pass (default: every verifier of the campaign). */
  verifiers: Schema.optionalKey(Schema.Array(NonEmpty).pipe(Schema.check(Schema.isMinLength(1)))),
  n: int(1, 256).pipe(withDefault(DEFAULTS.eval.n)),
  temperature: Schema.optionalKey(Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 10 })))),
  max_new_tokens: Schema.optionalKey(int(1, 32768))
})
/** `eval` with defaults filled in. */
export type EvalSpec = typeof EvalSpec.Type

const Rate = Unit

/**
 * `curriculum`: per-prompt pass rates kept across rounds decide the next round's prompts.
 * `drop_solved` drops prompts every sample solved (or, with `pass_rate`, solved that often over
 * `min_samples`); `hint_unsolved` samples unsolved prompts again with the reference as a hint
 * (STaR's rationalization; records say `rationalized`); `max_records_per_prompt` caps what one
 * prompt may give; `threshold_schedule` raises `selection.min_score` each round (ReST);
 * `raise_difficulty` moves generated problems' difficulty with the pass rate; `prompts_per_round`
 * samples only that many prompts a round, those sampled least so far first (a fresh slice of a
 * large pool each round).
 */
export const CurriculumSpec = Schema.Struct({
  drop_solved: Schema.optionalKey(Schema.Union([
    Schema.Boolean,
    Schema.Struct({ pass_rate: Schema.optionalKey(Rate), min_samples: Schema.optionalKey(int(1, 1_000_000)) })
  ])),
  hint_unsolved: Schema.optionalKey(Schema.Boolean),
  max_records_per_prompt: Schema.optionalKey(int(1, 1_000_000)),
  prompts_per_round: Schema.optionalKey(int(1, 10_000_000)),
  threshold_schedule: Schema.optionalKey(Schema.Struct({ start: Schema.Finite, step: Schema.Finite.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))), max: Schema.Finite })),
  raise_difficulty: Schema.optionalKey(Schema.Struct({
    target: Rate,
    floor: Rate,
    start: Schema.optionalKey(int(1, 64)),
    min: Schema.optionalKey(int(1, 64)),
    max: Schema.optionalKey(int(1, 64))
  }))
})
/** `curriculum` as written. */
export type CurriculumSpec = typeof CurriculumSpec.Type

const Langs = Schema.Array(Schema.Literals(["zh", "en"])).pipe(Schema.check(Schema.isMinLength(1)))
const Difficulty = Schema.Union([int(1, 64), Schema.Struct({ min: int(1, 64), max: int(1, 64) })])

/** One prompt-writing operator of the prompt stage. */
export const PromptOperatorSpec = Schema.Union([
  Schema.Struct({ type: Schema.Literal("arithmetic"), count: Schema.optionalKey(int(1, 100_000)), difficulty: Schema.optionalKey(Difficulty), langs: Schema.optionalKey(Langs) }),
  Schema.Struct({ type: Schema.Literal("self_instruct"), count: Schema.optionalKey(int(1, 100_000)), examples: Schema.optionalKey(int(1, 64)), new_per_request: Schema.optionalKey(int(1, 64)), langs: Schema.optionalKey(Langs) }),
  Schema.Struct({
    type: Schema.Literal("evol_instruct"),
    count: Schema.optionalKey(int(1, 100_000)),
    operations: Schema.optionalKey(Schema.Array(Schema.Literals(["add_constraints", "deepen", "concretize", "increase_reasoning", "breadth"])).pipe(Schema.check(Schema.isMinLength(1)))),
    langs: Schema.optionalKey(Langs)
  }),
  Schema.Struct({ type: Schema.Literal("magpie"), count: Schema.optionalKey(int(1, 100_000)), system: Schema.optionalKey(Schema.String) })
])
/** One prompt-writing operator as written. */
export type PromptOperatorSpec = typeof PromptOperatorSpec.Type

/**
 * `prompt_stage`: before each round, operators write new prompts: `arithmetic` verifiable
 * problems at a difficulty (which `curriculum.raise_difficulty` moves), `self_instruct` and
 * `evol_instruct` requests to the generator with Chinese and English templates, `magpie` queries
 * sampled from the generator's own pre-query template. Model-written prompts are screened (length,
 * dedup against every earlier prompt, decontamination against `eval.prompts`); the new prompt set
 * is committed as a version of the prompt dataset `dataset` (default `<output.dataset>-prompts`),
 * and the round samples from it.
 */
export const PromptStageSpec = Schema.Struct({
  operators: Schema.Array(PromptOperatorSpec).pipe(Schema.check(Schema.isMinLength(1))),
  dataset: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isPattern(/^[a-z0-9][a-z0-9._-]{0,63}$/u)))),
  max_new_tokens: int(8, 4096).pipe(withDefault(DEFAULTS.promptStage.max_new_tokens))
})
/** `prompt_stage` with defaults filled in. */
export type PromptStageSpec = typeof PromptStageSpec.Type

/** The name of a campaign's prompt dataset. */
export const promptDatasetOf = (spec: { readonly prompt_stage?: PromptStageSpec; readonly output: { readonly dataset: string } }): string =>
  spec.prompt_stage?.dataset ?? `${spec.output.dataset}-prompts`.slice(0, 64)

/** Checks across the loop's sections and the rest of the spec. */
export const loopIssues = (spec: {
  readonly improve?: ImproveSpec
  readonly eval?: EvalSpec
  readonly curriculum?: CurriculumSpec
  readonly prompt_stage?: PromptStageSpec
  readonly scorers: ReadonlyArray<{ readonly type: string; readonly name: string }>
  readonly selection: { readonly policy: string; readonly min_score?: number }
  readonly generator: { readonly backend: { readonly type: string }; readonly variant?: string }
}): InputIssue[] => {
  const issues: InputIssue[] = []
  const { improve, curriculum } = spec
  if (improve) {
    if (improve.trainer === "command" && improve.command === undefined) {
      issues.push({ path: "improve.command", value: undefined, expected: "the trainer command to run (with {data} or {pairs}, {base} and {out})" })
    }
    if (improve.trainer === "command" && improve.command !== undefined && !improve.command.includes("{out}")) {
      issues.push({ path: "improve.command", value: improve.command, expected: "a command that names {out}, the folder the trained model must be written to" })
    }
    if (improve.trainer === "bundled" && improve.command !== undefined) {
      issues.push({ path: "improve.command", value: improve.command, expected: "no command with trainer \"bundled\" (set trainer: command to run your own)" })
    }
    if (improve.method === "dpo" && spec.selection.policy !== "preference_pairs") {
      issues.push({ path: "improve.method", value: "dpo", expected: "\"sft\", or selection.policy \"preference_pairs\" (DPO trains on pairs)" })
    }
    if (improve.trainer === "bundled" && spec.generator.variant?.startsWith(GGUF_VARIANT_PREFIX)) {
      issues.push({ path: "generator.variant", value: spec.generator.variant, expected: "an ONNX variant (or none) with improve.trainer \"bundled\": it exports each trained generator as ONNX, so the next round would find no GGUF file (a trainer command may write gguf/ into {out})" })
    }
    if (spec.generator.backend.type !== "local") {
      issues.push({ path: "improve", value: "(set)", expected: `no improve step with generator.backend.type ${JSON.stringify(spec.generator.backend.type)} (winnow trains local models; the next round must load the result)` })
    }
  }
  spec.prompt_stage?.operators.forEach((operator, i) => {
    if (operator.type === "magpie" && spec.generator.backend.type !== "local") {
      issues.push({ path: `prompt_stage.operators[${i}].type`, value: "magpie", expected: "a local generator (Magpie continues the raw pre-query template, which a chat-completions server cannot)" })
    }
  })
  spec.eval?.verifiers?.forEach((name, i) => {
    if (!spec.scorers.some((s) => s.type === "verifier" && s.name === name)) {
      issues.push({ path: `eval.verifiers[${i}]`, value: name, expected: `the name of a verifier scorer (${spec.scorers.filter((s) => s.type === "verifier").map((s) => JSON.stringify(s.name)).join(", ") || "none in scorers"})` })
    }
  })
  if (spec.eval && !spec.scorers.some((s) => s.type === "verifier")) {
    issues.push({ path: "eval", value: "(set)", expected: "at least one verifier scorer in scorers (eval counts a sample as passing when every verifier accepts it)" })
  }
  const schedule = curriculum?.threshold_schedule
  if (schedule && schedule.start > schedule.max) {
    issues.push({ path: "curriculum.threshold_schedule.start", value: schedule.start, expected: `at most max (${schedule.max})` })
  }
  const raise = curriculum?.raise_difficulty
  if (raise && !(raise.floor < raise.target)) {
    issues.push({ path: "curriculum.raise_difficulty.floor", value: raise.floor, expected: `below target (${raise.target})` })
  }
  if (raise && !spec.prompt_stage?.operators.some((o) => o.type === "arithmetic")) {
    issues.push({ path: "curriculum.raise_difficulty", value: "(set)", expected: "a prompt_stage operator of type \"arithmetic\" (the problems whose difficulty it moves)" })
  }
  if (curriculum && (curriculum.drop_solved || curriculum.hint_unsolved) && !spec.scorers.some((s) => s.type === "verifier")) {
    issues.push({ path: "curriculum", value: "drop_solved / hint_unsolved", expected: "a verifier scorer (a prompt counts as solved when every verifier accepts a sample)" })
  }
  return issues
}
