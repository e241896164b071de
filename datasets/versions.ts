import { Effect, Schema } from "effect"
import { inputInvalid, NotFound, StoreCorrupt, type InputInvalid, type StoreIoFailed } from "../core/errors.js"
import { storeIo } from "./fsio.js"
import type { StoreLayout } from "./layout.js"
import { AnyManifest, upgradeManifest, versionIdOf, type Version } from "./manifest.js"
import { listTags, readHead, readTag } from "./refs.js"
import { DATASET_NAME, validateDatasetName } from "./validate.js"

type ReadError = StoreIoFailed | StoreCorrupt

const decodeManifest = Schema.decodeUnknownEffect(AnyManifest)

/**
 * Reads one manifest and checks it: parses, matches the schema, hashes to its id, and names
 * this dataset. Any mismatch is `StoreCorrupt`; a missing file too (a ref points at it).
 * Format-1 manifests (first cut) come back upgraded to the current shape.
 */
export const readVersion = Effect.fn("datasets.readVersion")(function*(
  layout: StoreLayout,
  name: string,
  id: string
): Effect.fn.Return<Version, ReadError> {
  const path = layout.versionPath(name, id)
  const text = yield* storeIo(path, () => layout.blobs.readText(path))
  const corrupt = (reason: string) => new StoreCorrupt({ path: layout.blobs.where(path), reason })
  if (text === null) return yield* corrupt("manifest file is missing")
  const json = yield* Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => corrupt("not JSON") })
  if (versionIdOf(json) !== id) return yield* corrupt(`content hashes to ${versionIdOf(json)}`)
  const manifest = upgradeManifest(yield* decodeManifest(json).pipe(Effect.mapError((error) => corrupt(error.message))))
  if (manifest.dataset !== name) return yield* corrupt(`manifest belongs to dataset ${manifest.dataset}`)
  return { id, manifest }
})

/**
 * The chain of versions from `headId` back to the first, newest first. Checks that sequence
 * numbers fall by one per step, so a damaged parent link cannot loop.
 */
export const readChain = Effect.fn("datasets.readChain")(function*(
  layout: StoreLayout,
  name: string,
  headId: string | null
): Effect.fn.Return<ReadonlyArray<Version>, ReadError> {
  const chain: Array<Version> = []
  for (let id = headId; id !== null;) {
    const version = yield* readVersion(layout, name, id)
    const previous = chain.at(-1)
    if (previous && version.manifest.sequence !== previous.manifest.sequence - 1) {
      return yield* new StoreCorrupt({
        path: layout.blobs.where(layout.versionPath(name, id)),
        reason: `sequence ${version.manifest.sequence} is not ${previous.manifest.sequence - 1}`
      })
    }
    chain.push(version)
    id = version.manifest.parent
  }
  const first = chain.at(-1)
  if (first && first.manifest.sequence !== 1) {
    return yield* new StoreCorrupt({ path: layout.blobs.where(layout.versionPath(name, first.id)), reason: "first version is not sequence 1" })
  }
  return chain
})

/** Names of datasets with at least one committed version, sorted. */
export const listDatasetNames = Effect.fn("datasets.listDatasetNames")(function*(layout: StoreLayout) {
  const names = (yield* storeIo(layout.datasetsDir, () => layout.blobs.list(layout.datasetsDir))).filter((n) => DATASET_NAME.test(n))
  const withHead = yield* Effect.forEach(names, (name) => readHead(layout, name).pipe(Effect.map((head) => [name, head] as const)))
  return withHead.filter(([, head]) => head !== null).map(([name]) => name)
})

/** The head version id of an existing dataset; `NotFound` (listing the datasets) when unknown. */
export const existingHead = Effect.fn("datasets.existingHead")(function*(
  layout: StoreLayout,
  source: string,
  name: string
): Effect.fn.Return<string, ReadError | NotFound | InputInvalid> {
  yield* validateDatasetName(source, "dataset", name)
  const head = yield* readHead(layout, name)
  if (head !== null) return head
  const names = yield* listDatasetNames(layout)
  return yield* new NotFound({
    kind: "dataset",
    name,
    hint: names.length > 0 ? `datasets: ${names.join(", ")}` : `no datasets in ${layout.blobs.location} yet`
  })
})

/** The chain of an existing dataset, newest first; `NotFound` (listing the datasets) when unknown. */
export const datasetChain = (layout: StoreLayout, source: string, name: string) =>
  existingHead(layout, source, name).pipe(Effect.flatMap((head) => readChain(layout, name, head)))

/** The chain ending at `version` (it first), back to the dataset's first version. */
export const datasetChainFrom = (layout: StoreLayout, version: Version) =>
  readChain(layout, version.manifest.dataset, version.id)

/** What follows `@` in a ref, parsed. */
export type VersionSelector =
  | { readonly _tag: "Latest" }
  | { readonly _tag: "Sequence"; readonly sequence: number; readonly text: string }
  | { readonly _tag: "IdPrefix"; readonly prefix: string }
  | { readonly _tag: "Tag"; readonly tag: string }

/**
 * Parses `NAME`, `NAME@latest`, `NAME@<sequence>`, `NAME@<version id prefix, 4-16 hex>` or
 * `NAME@<tag>`. Tags can never look like the other forms (see `validateTagName`). All digits
 * mean a sequence number when that version exists, else a version id prefix (ids can be all digits).
 */
export const parseRef = Effect.fn("datasets.parseRef")(function*(
  source: string,
  ref: string
): Effect.fn.Return<{ readonly name: string; readonly selector: VersionSelector }, InputInvalid> {
  if (typeof ref !== "string") return yield* inputInvalid(source, "ref", ref, "NAME or NAME@VERSION")
  const at = ref.indexOf("@")
  const name = yield* validateDatasetName(source, "ref", at === -1 ? ref : ref.slice(0, at))
  const selector = at === -1 ? "latest" : ref.slice(at + 1)
  if (selector === "latest") return { name, selector: { _tag: "Latest" } }
  if (/^[0-9]{1,15}$/.test(selector)) return { name, selector: { _tag: "Sequence", sequence: Number(selector), text: selector } }
  if (/^[0-9a-f]{4,16}$/.test(selector)) return { name, selector: { _tag: "IdPrefix", prefix: selector } }
  if (DATASET_NAME.test(selector)) return { name, selector: { _tag: "Tag", tag: selector } }
  return yield* inputInvalid(source, "ref", ref,
    "NAME, NAME@latest, NAME@<sequence>, NAME@<version id prefix of 4-16 hex chars> or NAME@<tag>")
})

/** Resolves a ref to one version of the dataset's chain; `NotFound` hints at what exists. */
export const resolveRef = Effect.fn("datasets.resolveRef")(function*(
  layout: StoreLayout,
  source: string,
  ref: string
): Effect.fn.Return<Version, ReadError | NotFound | InputInvalid> {
  const { name, selector } = yield* parseRef(source, ref)
  const head = yield* readVersion(layout, name, yield* existingHead(layout, source, name))
  const range = `${name} has versions 1..${head.manifest.sequence} (latest ${head.id})`
  switch (selector._tag) {
    case "Latest":
      return head
    case "Tag": {
      const id = yield* readTag(layout, name, selector.tag)
      if (id !== null) return yield* readVersion(layout, name, id)
      const tags = yield* listTags(layout, name)
      return yield* new NotFound({
        kind: "tag",
        name: ref,
        hint: tags.length > 0 ? `tags of ${name}: ${tags.join(", ")}` : `${name} has no tags; ${range}`
      })
    }
    case "Sequence": {
      const chain = yield* readChain(layout, name, head.id)
      const found = chain.find((v) => v.manifest.sequence === selector.sequence)
      if (found) return found
      if (selector.text.length < 4) return yield* new NotFound({ kind: "version", name: ref, hint: range })
      return yield* matchPrefix(source, ref, chain, selector.text, range)
    }
    case "IdPrefix":
      return yield* matchPrefix(source, ref, yield* readChain(layout, name, head.id), selector.prefix, range)
  }
})

const matchPrefix = (
  source: string,
  ref: string,
  chain: ReadonlyArray<Version>,
  prefix: string,
  range: string
): Effect.Effect<Version, NotFound | InputInvalid> => {
  const matches = chain.filter((v) => v.id.startsWith(prefix))
  if (matches.length === 1) return Effect.succeed(matches[0])
  if (matches.length > 1) {
    return Effect.fail(inputInvalid(source, "ref", ref, `an unambiguous prefix of one of ${matches.map((v) => v.id).join(", ")}`))
  }
  return Effect.fail(new NotFound({ kind: "version", name: ref, hint: range }))
}
