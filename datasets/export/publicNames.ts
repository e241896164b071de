import type { Version } from "../manifest.js"

/**
 * How a published export (a dataset-repo folder meant for upload) names what lineage records
 * by local path: models by their name and weights hash, files by their base name. Paths on the
 * exporting machine (home folders, user names, the winnow home) never leave it.
 */

/** True for a path on this machine: absolute (POSIX or Windows), home-relative or dot-relative. */
export const isLocalPath = (value: string): boolean =>
  value.startsWith("/") || value.startsWith("~") || value.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(value) ||
  value === "." || value === ".." || value.startsWith("./") || value.startsWith("../")

/** The last segment of a local path (`/models/Qwen2.5-0.5B/` → `Qwen2.5-0.5B`); other values unchanged. */
export const publicName = (value: string): string => {
  if (!isLocalPath(value)) return value
  const segments = value.split(/[\\/]+/).filter((s) => s.length > 0 && s !== "~")
  return segments.at(-1) ?? "model"
}

/** What lineage says about a generator. */
export interface GeneratorLike {
  readonly model: string
  readonly model_hash: string
  readonly model_id?: string
}

/**
 * A generator's public name: `trained <id prefix>` for a model the loop trained (its folder is
 * under the winnow home), the folder name of a local model, a served model's id as it is.
 * Shown beside its weights hash, which identifies it.
 */
export const generatorName = (generator: GeneratorLike): string =>
  generator.model_id !== undefined ? `trained ${generator.model_id.slice(0, 12)}` : publicName(generator.model)

const PATH_KEY = /^(model|path|file|dir|tokenizer)s?$|_(model|path|file|dir)s?$/

/** Replaces local paths under path-like keys (`model`, `*_path`, `file`, …) with their base names, at any depth. */
const scrubPaths = (value: unknown, key = ""): unknown => {
  if (typeof value === "string") return PATH_KEY.test(key) ? publicName(value) : value
  if (Array.isArray(value)) return value.map((item) => scrubPaths(item, key))
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrubPaths(v, k)]))
  }
  return value
}

/**
 * A version's manifest as a published folder carries it (`winnow/lineage.json`): the generator
 * named by `generatorName`, scorer configs and the decontamination file without local paths;
 * hashes, counts and everything else as stored.
 */
export const publicManifest = (version: Version): Record<string, unknown> => {
  const { lineage } = version.manifest
  const decontamination = lineage.dedup.decontamination
  return {
    id: version.id,
    ...version.manifest,
    lineage: {
      ...lineage,
      generator: { ...lineage.generator, model: generatorName(lineage.generator) },
      scorers: lineage.scorers.map((scorer) => ({ ...scorer, config: scrubPaths(scorer.config) })),
      dedup: { ...lineage.dedup, decontamination: decontamination === null ? null : { ...decontamination, file: publicName(decontamination.file) } }
    }
  }
}
