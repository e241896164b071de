import { Result, Schema } from "effect"
import { InputInvalid, type InputIssue } from "../core/errors.js"
import { inputIssuesOf } from "../core/schemaIssues.js"
import { DEFAULTS, LIMITS } from "../core/defaults.js"
import { SCORER_TYPES, ScorerSpec, scorerIssues } from "./scorerSpec.js"
import { BudgetSpec, budgetIssues } from "./budgetSpec.js"
import { TaskQueuesSpec } from "./queueSpec.js"
import { CurriculumSpec, EvalSpec, ImproveSpec, loopIssues, PromptStageSpec } from "./loopSpec.js"
import { SelectionSpec, selectionIssues } from "./selectionSpec.js"
import { outputsIssues } from "./outputSpec.js"
import { ReviewSpec, reviewIssues } from "./reviewSpec.js"
import { GeneratorVariant, int, NonEmpty, NonNegative, Unit, withDefault } from "./specFields.js"


/** A positive rate per minute. */
const PerMinute = Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)))

/** The generator runs in this worker on the local ONNX model named by `generator.model` (the default). */
export const LocalBackendSpec = Schema.Struct({ type: Schema.Literal("local") })

/**
 * The generator is an OpenAI-compatible chat-completions server (vLLM, SGLang, llama.cpp,
 * Ollama, `winnow serve`). The API key is read on the worker from the variable `api_key_env`
 * names, so it never enters the spec, Temporal payloads or lineage.
 */
export const OpenAIBackendSpec = Schema.Struct({
  type: Schema.Literal("openai"),
  base_url: NonEmpty.pipe(Schema.check(Schema.isPattern(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/u, { expected: "an http:// or https:// URL of an OpenAI-compatible API root, e.g. http://gpu-box:8000/v1" }))),
  model: NonEmpty,
  api_key_env: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/u, { expected: "the name of an environment variable (letters, digits, _)" })))),
  concurrency: int(1, LIMITS.maxHttpConcurrency).pipe(withDefault(DEFAULTS.openaiBackend.concurrency)),
  timeout_ms: int(100, 3_600_000).pipe(withDefault(DEFAULTS.openaiBackend.timeout_ms)),
  max_retries: int(0, 100).pipe(withDefault(DEFAULTS.openaiBackend.max_retries)),
  logprobs: Schema.Boolean.pipe(withDefault(DEFAULTS.openaiBackend.logprobs)),
  extended_sampling: Schema.Boolean.pipe(withDefault(DEFAULTS.openaiBackend.extended_sampling)),
  /** What the server allows per minute: requests wait for it, and slow down after a 429 (growing back after successes). */
  rate_limit: Schema.optionalKey(Schema.Struct({ requests_per_minute: Schema.optionalKey(PerMinute), tokens_per_minute: Schema.optionalKey(PerMinute) })),
  /** What the server charges per million tokens, for `budget.usd`. */
  price: Schema.optionalKey(Schema.Struct({ input_per_million: NonNegative, output_per_million: NonNegative }))
})
export type OpenAIBackendSpec = typeof OpenAIBackendSpec.Type

/**
 * No model: each sample answers with `template` (`{prompt}`: the prompt's last user message,
 * `{sample}`: the sample index, `{n}`: the sample count), written sample index + 1 times
 * (`models/echoGenerator.ts`). For dry runs of a campaign's plumbing and engine benchmarks.
 */
export const EchoBackendSpec = Schema.Struct({
  type: Schema.Literal("echo"),
  template: Schema.optionalKey(NonEmpty)
})
export type EchoBackendSpec = typeof EchoBackendSpec.Type

/** The generator backend types a spec can name. */
export const BACKEND_TYPES = ["local", "openai", "echo"] as const

/** Where generation runs: the local ONNX model, an OpenAI-compatible HTTP server, or the model-free echo. */
export const GeneratorBackendSpec = Schema.Union([LocalBackendSpec, OpenAIBackendSpec, EchoBackendSpec])

/**
 * Sampling parameters of the generator; all have defaults in `core/defaults.ts`. `model`
 * (a local model directory) is required with the local backend and absent with `openai` and `echo`;
 * `variant` picks one of its ONNX files (`fp16` → `onnx/model_fp16.onnx`) or, as `gguf:<name>`,
 * a GGUF file that llama.cpp runs (`gguf:q4_k_m` → `gguf/model-q4_k_m.gguf`).
 */
export const GeneratorSpec = Schema.Struct({
  model: Schema.optionalKey(NonEmpty),
  variant: Schema.optionalKey(GeneratorVariant),
  backend: GeneratorBackendSpec.pipe(withDefault(DEFAULTS.generator.backend)),
  n: int(1, LIMITS.maxSamplesPerPrompt).pipe(withDefault(DEFAULTS.generator.n)),
  temperature: Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 10 })), withDefault(DEFAULTS.generator.temperature)),
  top_p: Unit.pipe(withDefault(DEFAULTS.generator.top_p)),
  top_k: int(0, 1_000_000).pipe(withDefault(DEFAULTS.generator.top_k)),
  min_p: Unit.pipe(withDefault(DEFAULTS.generator.min_p)),
  repetition_penalty: Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0.01, maximum: 10 })), withDefault(DEFAULTS.generator.repetition_penalty)),
  max_new_tokens: int(1, LIMITS.maxNewTokens).pipe(withDefault(DEFAULTS.generator.max_new_tokens)),
  seed: int(0, 2 ** 32 - 1).pipe(withDefault(DEFAULTS.generator.seed)),
  system_prompt: Schema.optionalKey(Schema.String),
  stop: Schema.optionalKey(Schema.Array(NonEmpty))
})
export type GeneratorSpec = typeof GeneratorSpec.Type

export {
  ClassifierScorerSpec, HEURISTIC_METRICS, HeuristicScorerSpec, JudgeScorerSpec, LM_STATS_METRICS, LmStatsScorerSpec,
  NORMALIZATIONS, SCORER_TYPES, ScorerSpec, VERIFIER_CHECKS, VerifierScorerSpec
} from "./scorerSpec.js"
export { SELECTION_POLICIES, SelectionSpec } from "./selectionSpec.js"
export { CurriculumSpec, EvalSpec, ImproveSpec, PromptStageSpec } from "./loopSpec.js"
export { ReviewSpec } from "./reviewSpec.js"

/** How the prompt set is split into child workflows. */
export const ShardingSpec = Schema.Struct({
  prompts_per_shard: int(1, LIMITS.maxPromptsPerShard).pipe(withDefault(DEFAULTS.sharding.prompts_per_shard)),
  max_concurrent_shards: int(1, LIMITS.maxConcurrentShards).pipe(withDefault(DEFAULTS.sharding.max_concurrent_shards)),
  /** Prompts sampled between a shard's checkpoints (default `DEFAULTS.sharding.checkpoint_prompts`): a generate attempt that dies resumes after the last one. */
  checkpoint_prompts: Schema.optionalKey(int(1, LIMITS.maxPromptsPerShard))
})

const DatasetName = Schema.String.pipe(Schema.check(Schema.isPattern(/^[a-z0-9][a-z0-9._-]{0,63}$/u)))

/**
 * `output.dedup`: how a round's records are deduplicated when committed. Exact duplicates
 * (same content hash) always collapse; `near` drops answers whose shingle Jaccard similarity to
 * a better answer to the same prompt (`scope: response`) or to any record (`conversation`), in
 * this round or any earlier version, reaches about `threshold` (MinHash LSH: word n-grams for
 * space-separated text, character n-grams for Chinese). `decontaminate` names a file of
 * evaluation prompts (JSONL or one per line) whose near-duplicates are kept out.
 */
export const DedupSpec = Schema.Struct({
  near: Schema.Boolean.pipe(withDefault(DEFAULTS.dedup.near)),
  threshold: Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0.05, maximum: 1 })), withDefault(DEFAULTS.dedup.threshold)),
  ngram: int(1, 16).pipe(withDefault(DEFAULTS.dedup.ngram)),
  num_perm: int(8, 1024).pipe(withDefault(DEFAULTS.dedup.num_perm)),
  scope: Schema.Literals(["response", "conversation"]).pipe(withDefault(DEFAULTS.dedup.scope)),
  decontaminate: Schema.optionalKey(NonEmpty)
})
/** `output.dedup` with defaults filled in. */
export type DedupSpec = typeof DedupSpec.Type

/**
 * One entry of `outputs`: another dataset written from the same scored samples, with a selection
 * and dedup of its own (e.g. best-of-N SFT records in `output`, preference pairs here). Each
 * shard selects and stages it after its one generate and score; each round commits it as a
 * version of its dataset. Use when one campaign should feed several datasets without sampling twice.
 */
export const ExtraOutputSpec = Schema.Struct({
  dataset: DatasetName,
  selection: SelectionSpec.pipe(withDefault({})),
  dedup: DedupSpec.pipe(withDefault({}))
})
/** One entry of `outputs` with defaults filled in. */
export type ExtraOutputSpec = typeof ExtraOutputSpec.Type

/** A campaign spec as written in YAML or JSON. The source of truth for validation and the editor JSON Schema. */
export const CampaignSpec = Schema.Struct({
  name: NonEmpty.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u))),
  description: Schema.optionalKey(Schema.String),
  prompts: NonEmpty,
  generator: GeneratorSpec,
  scorers: Schema.Array(ScorerSpec).pipe(Schema.check(Schema.isMinLength(1))),
  selection: SelectionSpec.pipe(withDefault({})),
  rounds: int(1, LIMITS.maxRounds).pipe(withDefault(DEFAULTS.rounds)),
  sharding: ShardingSpec.pipe(withDefault({})),
  output: Schema.Struct({
    dataset: DatasetName,
    dedup: DedupSpec.pipe(withDefault({})),
    keep_work: Schema.Boolean.pipe(withDefault(DEFAULTS.keepWork))
  }),
  outputs: Schema.optionalKey(Schema.Array(ExtraOutputSpec)),
  improve: Schema.optionalKey(ImproveSpec),
  eval: Schema.optionalKey(EvalSpec),
  curriculum: Schema.optionalKey(CurriculumSpec),
  prompt_stage: Schema.optionalKey(PromptStageSpec),
  budget: Schema.optionalKey(BudgetSpec),
  review: Schema.optionalKey(ReviewSpec),
  task_queues: Schema.optionalKey(TaskQueuesSpec)
})
/** A validated campaign spec with every default filled in. */
export type CampaignSpec = typeof CampaignSpec.Type

const decode = Schema.decodeUnknownResult(CampaignSpec, { onExcessProperty: "error", errors: "all" })

/**
 * Validates a parsed spec object. Use after reading YAML/JSON and before anything starts;
 * the error names every bad field, the value found and what was expected.
 */
export const decodeSpec = (input: unknown, source: string): Result.Result<CampaignSpec, InputInvalid> => {
  const discriminatorIssues = [...checkBackendType(input), ...checkScorerTypes(input)]
  if (discriminatorIssues.length > 0) return Result.fail(new InputInvalid({ source, issues: discriminatorIssues }))
  const modelIssues = checkGeneratorModel(input)
  const decoded = decode(input)
  if (Result.isSuccess(decoded)) {
    const crossIssues = [...modelIssues, ...scorerIssues(decoded.success.scorers), ...selectionIssues(decoded.success.selection), ...outputsIssues(decoded.success), ...recordedStatsIssues(decoded.success), ...loopIssues(decoded.success), ...budgetIssues(decoded.success), ...reviewIssues(decoded.success)]
    return crossIssues.length > 0 ? Result.fail(new InputInvalid({ source, issues: crossIssues })) : Result.succeed(decoded.success)
  }
  const issues = inputIssuesOf(decoded.failure.issue, input)
  return Result.fail(new InputInvalid({ source, issues: dedupeIssues([...modelIssues, ...issues]) }))
}

/**
 * An `lm_stats` scorer without a model reads what the generator recorded while sampling; an
 * HTTP backend records no entropies, and no log-probabilities with `logprobs: false`; the echo
 * backend records neither.
 */
const recordedStatsIssues = (spec: CampaignSpec): InputIssue[] => {
  const backend = spec.generator.backend
  if (backend.type === "local") return []
  return spec.scorers.flatMap((scorer, i): InputIssue[] => {
    if (scorer.type !== "lm_stats" || scorer.model !== undefined) return []
    if (backend.type === "echo") return [{ path: `scorers[${i}].model`, value: undefined, expected: "a causal LM directory to score with: the echo backend records no log-probabilities or entropies" }]
    const missing = scorer.metric === "entropy" ? "per-token entropies" : backend.logprobs ? undefined : "log-probabilities (generator.backend.logprobs is false)"
    return missing === undefined
      ? []
      : [{ path: `scorers[${i}].model`, value: undefined, expected: `a causal LM directory to score with: the OpenAI-compatible backend records no ${missing}` }]
  })
}

const backendOf = (input: unknown): { model: unknown; variant: unknown; type: unknown } | undefined => {
  const generator = (input as { generator?: unknown } | null)?.generator
  if (generator === null || typeof generator !== "object") return undefined
  const { model, variant, backend } = generator as { model?: unknown; variant?: unknown; backend?: unknown }
  return { model, variant, type: backend === undefined ? "local" : (backend as { type?: unknown } | null)?.type }
}

const checkBackendType = (input: unknown): InputIssue[] => {
  const generator = backendOf(input)
  return generator === undefined || (BACKEND_TYPES as readonly unknown[]).includes(generator.type)
    ? []
    : [{ path: "generator.backend.type", value: generator.type, expected: `one of ${BACKEND_TYPES.map((t) => JSON.stringify(t)).join(", ")}` }]
}

const checkGeneratorModel = (input: unknown): InputIssue[] => {
  const generator = backendOf(input)
  if (generator?.type === "local" && generator.model === undefined) return [{ path: "generator.model", value: undefined, expected: "a value (this field is required)" }]
  if (generator?.type === "openai" && generator.model !== undefined) {
    return [{ path: "generator.model", value: generator.model, expected: "no local model with generator.backend.type \"openai\" (name the served model in generator.backend.model)" }]
  }
  if (generator?.type === "openai" && generator.variant !== undefined) {
    return [{ path: "generator.variant", value: generator.variant, expected: "no ONNX variant with generator.backend.type \"openai\" (the server picks its own weights)" }]
  }
  if (generator?.type === "echo" && (generator.model !== undefined || generator.variant !== undefined)) {
    const field = generator.model !== undefined ? "model" : "variant"
    return [{ path: `generator.${field}`, value: generator[field], expected: "no model with generator.backend.type \"echo\" (it answers from its template without one)" }]
  }
  return []
}

const checkScorerTypes = (input: unknown): InputIssue[] => {
  const scorers = (input as { scorers?: unknown } | null)?.scorers
  if (!Array.isArray(scorers)) return []
  return scorers.flatMap((scorer, i): InputIssue[] => {
    const type = (scorer as { type?: unknown } | null)?.type
    return (SCORER_TYPES as readonly unknown[]).includes(type)
      ? []
      : [{ path: `scorers[${i}].type`, value: type, expected: `one of ${SCORER_TYPES.map((t) => JSON.stringify(t)).join(", ")}` }]
  })
}

const dedupeIssues = (issues: InputIssue[]): InputIssue[] => {
  const byPath = new Map<string, InputIssue>()
  for (const issue of issues) {
    const seen = byPath.get(issue.path)
    byPath.set(issue.path, seen ? { ...seen, expected: `${seen.expected} and ${issue.expected}` } : issue)
  }
  return [...byPath.values()]
}

