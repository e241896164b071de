import { Effect, Schema } from "effect"

/** Gives a spec field its default when the key is absent. Use with a value from `core/defaults.ts`. */
export const withDefault = <S extends Schema.Top & { readonly Encoded: unknown }>(value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))

/** A whole number within [min, max], for counts, sizes and seeds. */
export const int = (min: number, max: number) =>
  Schema.Finite.pipe(Schema.check(Schema.isInt(), Schema.isBetween({ minimum: min, maximum: max })))

/** A string that is not empty: paths, names, templates. */
export const NonEmpty = Schema.String.pipe(Schema.check(Schema.isNonEmpty()))

/** A number from 0 to 1 inclusive: probabilities and fractions. */
export const Unit = Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))

/** A number of at least 0: tolerances and margins. */
export const NonNegative = Schema.Finite.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/**
 * Which ONNX file of a model directory to load, beside `model`: `fp16` loads
 * `onnx/model_fp16.onnx` (also `q4`, `q4f16`, `quantized`, …, or any `onnx/<name>.onnx`).
 * Without it winnow loads the first of `onnx/model.onnx`, `model_quantized`, `model_q4`, ….
 */
export const OnnxVariant = Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/u, {
  expected: "the name of an ONNX variant in the model's onnx/ folder, e.g. fp16, q4, q4f16, quantized"
})))

/**
 * Which weights of a generator's model directory to load: an ONNX variant (see `OnnxVariant`), or
 * `gguf:<name>` for `gguf/model-<name>.gguf` (or `gguf/<name>.gguf`), run by llama.cpp with the
 * same tokenizer, chat template, sampling, seeding and log-probabilities.
 */
export const GeneratorVariant = Schema.String.pipe(Schema.check(Schema.isPattern(/^(gguf:)?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/u, {
  expected: "the name of an ONNX variant in the model's onnx/ folder (e.g. fp16, q4) or gguf:<name> for a GGUF file in its gguf/ folder (e.g. gguf:q4_k_m)"
})))
