import { Effect, Schema } from "effect"
import type { InputInvalid } from "../../core/errors.js"
import { configHash } from "../../core/hash.js"
import type { DedupLineage } from "../manifest.js"
import { chooseBands } from "./minhash.js"
import { decodeInput } from "../validate.js"

/** The shingling/tokenizer revision; part of the params key so sidecars are rebuilt if it changes. */
const SHINGLER_REVISION = 1

/** Near-duplicate defaults for the store; a campaign spec's `output.dedup` overrides them. */
export const NEAR_DUP_DEFAULTS = { threshold: 0.8, num_perm: 128, ngram: 3, scope: "response", seed: 1 } as const

/**
 * Near-duplicate options of a commit. `scope: response` compares answers to the same prompt
 * (prompt text normalised), `conversation` compares prompt + answer as one text. `threshold` is
 * the Jaccard similarity of shingle sets at which a pair is caught with probability ≥ 0.9.
 */
export const NearDupOptions = Schema.Struct({
  threshold: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0.05, maximum: 1 }))),
  num_perm: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 8, maximum: 1024 }))),
  ngram: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 16 }))),
  scope: Schema.optionalKey(Schema.Literals(["response", "conversation"])),
  seed: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0xffffffff })))
})
/** Near-duplicate options (see the schema of the same name). */
export type NearDupOptions = typeof NearDupOptions.Type

/**
 * How a commit deduplicates beyond exact ids: `near` (omit or `null` for exact only) and
 * `decontaminate`, a file of evaluation prompts (JSONL with `prompt`/`messages`/`question`/
 * `text`, or plain text, one prompt per line) whose near-duplicates are kept out.
 */
export const DedupOptions = Schema.Struct({
  near: Schema.optionalKey(Schema.NullOr(NearDupOptions)),
  decontaminate: Schema.optionalKey(Schema.NonEmptyString)
})
/** Dedup options of a commit (see the schema of the same name). */
export type DedupOptions = typeof DedupOptions.Type

/** Fully resolved near-duplicate parameters, as recorded in lineage. */
export type NearDupParams = NonNullable<DedupLineage["near"]>

/** Fills defaults, picks bands × rows for the threshold, and names the parameter set. */
export const resolveNearParams = (options: NearDupOptions): NearDupParams => {
  const threshold = options.threshold ?? NEAR_DUP_DEFAULTS.threshold
  const numPerm = options.num_perm ?? NEAR_DUP_DEFAULTS.num_perm
  const ngram = options.ngram ?? NEAR_DUP_DEFAULTS.ngram
  const scope = options.scope ?? NEAR_DUP_DEFAULTS.scope
  const seed = options.seed ?? NEAR_DUP_DEFAULTS.seed
  const { bands, rows } = chooseBands(threshold, numPerm)
  const paramsKey = configHash({ numPerm, ngram, scope, seed, bands, rows, revision: SHINGLER_REVISION })
  return { threshold, num_perm: numPerm, bands, rows, ngram, scope, seed, params_key: paramsKey }
}

/** Decodes caller dedup options (bad fields → `InputInvalid` naming them). */
export const decodeDedupOptions = (source: string, value: unknown): Effect.Effect<DedupOptions, InputInvalid> =>
  value === undefined ? Effect.succeed({}) : decodeInput(DedupOptions, source, "dedup")(value)
