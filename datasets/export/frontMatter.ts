import type { ExportSchema } from "./schemas.js"

/**
 * The dataset card's YAML front matter and license text. The Hub reads the front matter for
 * its metadata; Hugging Face `datasets` keys its cache for `load_dataset(folder)` on the card's
 * `configs` and `dataset_info`, so the config is named after the schema and version: a folder
 * exported again with another version (or schema) is a new cache entry, never the old rows.
 */

/** Used when no license was given at export: the terms are not winnow's to choose. */
export const DEFAULT_LICENSE_NAME = "unspecified-synthetic-data"

const DEFAULT_LICENSE_DETAILS =
  "No license was chosen at export. Synthetic data's terms follow from the licenses of the generator models that sampled it (see Models) and of the prompts' sources."

/** What the front matter describes. */
export interface FrontMatterInput {
  readonly dataset: string
  readonly versionId: string
  readonly schema: ExportSchema
  readonly languages: ReadonlyArray<string>
  readonly records: number
  /** Bytes of the Parquet shards (`dataset_info.download_size`). */
  readonly shardBytes: number
  /** A Hugging Face license identifier; absent: `other`, named and explained. */
  readonly license?: string
}

/** The config name of an export: its schema and version (`sft-0123456789abcdef`). */
export const configName = (schema: ExportSchema, versionId: string): string => `${schema}-${versionId}`

const sizeCategory = (n: number): string =>
  n < 1_000 ? "n<1K" : n < 10_000 ? "1K<n<10K" : n < 100_000 ? "10K<n<100K" : n < 1_000_000 ? "100K<n<1M" : n < 10_000_000 ? "1M<n<10M" : "10M<n<100M"

const licenseLines = (license: string | undefined): Array<string> =>
  license === undefined || license === "other"
    ? ["license: other", `license_name: ${DEFAULT_LICENSE_NAME}`, `license_details: ${JSON.stringify(DEFAULT_LICENSE_DETAILS)}`]
    : [`license: ${license}`]

/**
 * The front matter, fences included: name, languages, license, tags, size, one config (the
 * default) over `data/train-*` named by `configName`, and its `dataset_info` (split sizes, which
 * `datasets` checks against the files it reads).
 */
export const frontMatter = (input: FrontMatterInput): string => {
  const config = configName(input.schema, input.versionId)
  return [
    "---",
    `pretty_name: ${JSON.stringify(input.dataset)}`,
    ...(input.languages.length > 0 ? ["language:", ...input.languages.map((l) => `- ${l}`)] : []),
    ...licenseLines(input.license),
    "task_categories:",
    "- text-generation",
    "tags:",
    "- synthetic",
    "- winnow",
    `- ${input.schema}`,
    "size_categories:",
    `- ${sizeCategory(input.records)}`,
    "configs:",
    `- config_name: ${config}`,
    "  default: true",
    "  data_files:",
    "  - split: train",
    "    path: data/train-*",
    "dataset_info:",
    `  config_name: ${config}`,
    "  splits:",
    "  - name: train",
    `    num_examples: ${input.records}`,
    `  download_size: ${input.shardBytes}`,
    "---"
  ].join("\n")
}

/** The card's License section: the license given, or why there is none. */
export const licenseSection = (license: string | undefined): Array<string> => [
  "## License",
  "",
  license === undefined || license === "other"
    ? `${DEFAULT_LICENSE_DETAILS} Choose one with \`winnow dataset pull --license <id>\` before publishing.`
    : `\`${license}\`, as chosen at export. It must agree with the licenses of the generator models (see Models) and of the prompts' sources.`,
  ""
]
