import { link, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Result, Schema } from "effect"
import { type InputInvalid, NotFound, StoreCorrupt, type StoreIoFailed } from "../core/errors.js"
import { isMissing, storeIo } from "./fsio.js"
import { validateDatasetName } from "./validate.js"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * One version of a prompt dataset: the whole prompt set as of that version (content-addressed
 * pages, `prompts/<ref>/…`), how many prompts it added to its parent, and who added them.
 */
export const PromptSetVersion = Schema.Struct({
  format: Schema.Literal("winnow.prompt-set/1"),
  name: Schema.String,
  sequence: NonNegativeInt,
  parent: Schema.NullOr(NonNegativeInt),
  created_at: Schema.String,
  prompts: Schema.Struct({ ref: Schema.String, count: NonNegativeInt, pageSize: NonNegativeInt }),
  added: NonNegativeInt,
  lineage: Schema.Struct({
    campaign_id: Schema.String,
    round: NonNegativeInt,
    generator: Schema.String,
    operators: Schema.Record(Schema.String, Schema.Unknown)
  })
})
/** One version of a prompt dataset (see the schema of the same name). */
export type PromptSetVersion = typeof PromptSetVersion.Type

const decode = Schema.decodeUnknownResult(PromptSetVersion)
const SOURCE = "prompt-sets"

/**
 * Versioned prompt datasets under `<root>/prompt-sets/<name>/<sequence>.json`: what the prompt
 * stage writes each round and later rounds sample from. A version file is created whole and only
 * once (hard link of a finished temporary file), so two writers can never both claim a sequence.
 */
export const promptSets = (root: string) => {
  const dir = (name: string) => join(root, "prompt-sets", name)
  const read = (path: string): Effect.Effect<PromptSetVersion, StoreIoFailed | StoreCorrupt> =>
    storeIo(path, () => readFile(path, "utf8")).pipe(Effect.flatMap((text) => {
      let json: unknown
      try { json = JSON.parse(text) } catch (e) { return Effect.fail(new StoreCorrupt({ path, reason: (e as Error).message })) }
      const decoded = decode(json)
      return Result.isSuccess(decoded) ? Effect.succeed(decoded.success) : Effect.fail(new StoreCorrupt({ path, reason: "not a prompt-set version" }))
    }))
  const log = (name: string): Effect.Effect<PromptSetVersion[], InputInvalid | StoreIoFailed | StoreCorrupt> =>
    validateDatasetName(SOURCE, "name", name).pipe(
      Effect.flatMap(() => storeIo(dir(name), async () => {
        try {
          return (await readdir(dir(name))).filter((f) => /^\d+\.json$/.test(f))
        } catch (e) {
          if (isMissing(e)) return []
          throw e
        }
      })),
      Effect.flatMap((files) => Effect.forEach(files, (f) => read(join(dir(name), f)))),
      Effect.map((versions) => versions.sort((a, b) => b.sequence - a.sequence))
    )
  return {
    /** Every version, newest first (empty for a name never written). */
    log,
    /** A version by sequence number, or the newest. */
    resolve: (name: string, sequence?: number): Effect.Effect<PromptSetVersion, InputInvalid | NotFound | StoreIoFailed | StoreCorrupt> =>
      log(name).pipe(Effect.flatMap((versions) => {
        const found = sequence === undefined ? versions[0] : versions.find((v) => v.sequence === sequence)
        return found ? Effect.succeed(found) : Effect.fail(new NotFound({ kind: "prompt set", name: sequence === undefined ? name : `${name}@${sequence}`, hint: versions.length > 0 ? `versions 0–${versions[0]!.sequence}` : "nothing was written under this name" }))
      })),
    /**
     * Adds a version after the newest, unless the newest already holds exactly this prompt set
     * (a retried write): then that one is returned.
     */
    append: (draft: Omit<PromptSetVersion, "format" | "sequence" | "parent" | "created_at">): Effect.Effect<PromptSetVersion, InputInvalid | StoreIoFailed | StoreCorrupt> =>
      Effect.gen(function* () {
        for (;;) {
          const head = (yield* log(draft.name))[0]
          if (head && head.prompts.ref === draft.prompts.ref && head.lineage.campaign_id === draft.lineage.campaign_id && head.lineage.round === draft.lineage.round) return head
          const version: PromptSetVersion = { format: "winnow.prompt-set/1", ...draft, sequence: head ? head.sequence + 1 : 0, parent: head?.sequence ?? null, created_at: new Date().toISOString() }
          const path = join(dir(draft.name), `${version.sequence}.json`)
          const temp = `${path}.${process.pid}.${Date.now()}.tmp`
          const won = yield* storeIo(path, async () => {
            await mkdir(dir(draft.name), { recursive: true })
            await writeFile(temp, `${JSON.stringify(version, null, 2)}\n`)
            try {
              await link(temp, path)
              return true
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
              throw e
            } finally {
              await rm(temp, { force: true })
            }
          })
          if (won) return version
        }
      })
  }
}

/** The prompt-set store over a store root. */
export type PromptSets = ReturnType<typeof promptSets>
