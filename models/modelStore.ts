import { existsSync } from "node:fs"
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Result, Schema } from "effect"
import { NotFound, StoreCorrupt, StoreIoFailed } from "../core/errors.js"

/** Where a model came from: the base it was trained from, the data, the trainer, what it measured. */
export const ModelManifest = Schema.Struct({
  format: Schema.Literal("winnow.model/1"),
  /** The content address: sha256 of (base weights, training data, trainer and settings). */
  id: Schema.String,
  created_at: Schema.String,
  /** Hash of the ONNX weights and tokenizer the generator loads (as in dataset lineage). */
  model_hash: Schema.String,
  base: Schema.Struct({ path: Schema.String, model_hash: Schema.String }),
  dataset: Schema.Struct({ name: Schema.String, version: Schema.String, records: Schema.Number, data_hash: Schema.String }),
  campaign: Schema.Struct({ id: Schema.String, round: Schema.Number }),
  trainer: Schema.Struct({
    kind: Schema.Literals(["bundled", "command"]),
    method: Schema.optionalKey(Schema.String),
    command: Schema.optionalKey(Schema.String),
    settings: Schema.Record(Schema.String, Schema.Unknown),
    version: Schema.String
  }),
  metrics: Schema.Record(Schema.String, Schema.Unknown),
  resumed_from_step: Schema.optionalKey(Schema.Number)
})
/** A stored model's `model.json`. */
export type ModelManifest = typeof ModelManifest.Type

/** A trained model in the store: its folder (a generator model directory) and its manifest. */
export interface StoredModel {
  readonly path: string
  readonly manifest: ModelManifest
}

const MANIFEST = "model.json"
const decodeManifest = Schema.decodeUnknownResult(ModelManifest)

/**
 * Trained generators under `<home>/models/<id>/`, content-addressed by what made them, each a
 * model directory the generator loads plus `model.json` (its lineage). A folder appears only
 * complete: trainers write into `tmp/`, and `install` renames the finished folder into place,
 * so the same inputs find the stored model instead of training twice.
 */
export interface ModelStore {
  readonly root: string
  /** A scratch folder for one training run's output (removed by `discard` or moved by `install`). */
  readonly scratch: (id: string, attempt: string) => string
  /** The stored model with this id, if it is there and whole. */
  readonly find: (id: string) => Effect.Effect<StoredModel | undefined, StoreCorrupt | StoreIoFailed>
  /** Writes the manifest into a finished scratch folder and moves it to its address; an earlier install of the same id wins. */
  readonly install: (scratch: string, manifest: ModelManifest) => Effect.Effect<StoredModel, StoreCorrupt | StoreIoFailed>
  readonly discard: (scratch: string) => Effect.Effect<void>
  /** Every stored model, newest first. */
  readonly list: () => Effect.Effect<StoredModel[], StoreCorrupt | StoreIoFailed>
  /** A stored model by id or unique id prefix. */
  readonly show: (idOrPrefix: string) => Effect.Effect<StoredModel, NotFound | StoreCorrupt | StoreIoFailed>
}

const io = <A>(path: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (e) => new StoreIoFailed({ path, reason: (e as Error).message }) })

/** The model store under a winnow home. */
export const modelStore = (home: string): ModelStore => {
  const root = join(home, "models")
  const read = (id: string): Effect.Effect<StoredModel | undefined, StoreCorrupt | StoreIoFailed> => {
    const path = join(root, id)
    const file = join(path, MANIFEST)
    if (!existsSync(file)) return Effect.succeed(undefined)
    return io(file, () => readFile(file, "utf8")).pipe(Effect.flatMap((text) => {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (e) {
        return Effect.fail(new StoreCorrupt({ path: file, reason: (e as Error).message }))
      }
      const decoded = decodeManifest(json)
      return Result.isSuccess(decoded)
        ? Effect.succeed({ path, manifest: decoded.success })
        : Effect.fail(new StoreCorrupt({ path: file, reason: "not a winnow model manifest" }))
    }))
  }
  const list = () =>
    io(root, async () => (existsSync(root) ? (await readdir(root)).filter((name) => /^[0-9a-f]{64}$/.test(name)) : [])).pipe(
      Effect.flatMap((ids) => Effect.forEach(ids, read)),
      Effect.map((models) => models.filter((m): m is StoredModel => m !== undefined).sort((a, b) => b.manifest.created_at.localeCompare(a.manifest.created_at)))
    )
  return {
    root,
    scratch: (id, attempt) => join(root, "tmp", `${id}-${attempt}`),
    find: read,
    install: (scratch, manifest) =>
      Effect.gen(function* () {
        const existing = yield* read(manifest.id)
        if (existing) {
          yield* Effect.promise(() => rm(scratch, { recursive: true, force: true }))
          return existing
        }
        const target = join(root, manifest.id)
        yield* io(scratch, async () => {
          await writeFile(join(scratch, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
          await mkdir(root, { recursive: true })
          await rm(target, { recursive: true, force: true })
          await rename(scratch, target)
        })
        return { path: target, manifest }
      }),
    discard: (scratch) => Effect.promise(() => rm(scratch, { recursive: true, force: true })),
    list,
    show: (idOrPrefix) =>
      list().pipe(Effect.flatMap((models) => {
        const matches = models.filter((m) => m.manifest.id.startsWith(idOrPrefix))
        if (matches.length === 1) return Effect.succeed(matches[0]!)
        return Effect.fail(new NotFound({
          kind: "model",
          name: idOrPrefix,
          hint: matches.length > 1 ? `${matches.length} models start with it; give more of the id` : models.length === 0 ? "no model has been trained yet" : "see winnow model list"
        }))
      }))
  }
}
