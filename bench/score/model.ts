import { cachedBenchModel } from "../modelCache.js"
import { buildClassifier, type ClassifierOptions, describeClassifier, readCorpus } from "../../tests/fixtures/index.js"

/**
 * The score benchmark's classifier: a bidirectional reward model of about 3.3 M parameters
 * (256 hidden, 4 layers, 8 heads, 1024 MLP, one logit) with random weights, built by the project.
 */
export const BENCH_CLASSIFIER_OPTIONS: ClassifierOptions = {
  kind: "random",
  numLabels: 1,
  pooling: "mean",
  hidden: 256,
  layers: 4,
  heads: 8,
  kvHeads: 8,
  intermediate: 1024,
  maxPositions: 512,
  seed: 21
}

/** Builds the bench classifier once into the tool cache (keyed by its options) and returns its directory. */
export const benchClassifierDir = (): string => cachedBenchModel("score", BENCH_CLASSIFIER_OPTIONS, buildClassifier)

/**
 * `count` responses of real corpus text, each `tokens` long under the classifier's tokenizer,
 * cut at different offsets, with the exact token ids the classifier will see (for the peer).
 */
export const benchTexts = (count: number, tokens: number): Array<{ text: string; ids: number[] }> => {
  const { tokenizer } = describeClassifier(BENCH_CLASSIFIER_OPTIONS)
  const corpus = [...readCorpus().replace(/\s+/g, " ")]
  return Array.from({ length: count }, (_, i) => {
    const start = (i * 613) % Math.max(1, corpus.length - tokens * 8)
    let chars = tokens
    while (tokenizer.encoder.encode(corpus.slice(start, start + chars).join("")).length < tokens) chars += 16
    const text = corpus.slice(start, start + chars).join("")
    return { text, ids: tokenizer.encoder.encode(text).slice(0, tokens) }
  })
}
