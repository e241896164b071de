import { readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Lineage } from "../manifest.js"
import type { DatasetStoreApi } from "../store.js"
import { failure, run, sft } from "../../tests/support/storeFixtures.js"
import { useTempStore } from "../../tests/support/tempStore.js"

let root: string
let store: DatasetStoreApi
useTempStore((fresh) => ({ root, store } = fresh))

const HOME = "/home/alice/work"
const BASE_HASH = "1f".repeat(32)
const TRAINED_HASH = "2e".repeat(32)

const roundLineage = (round: number, generator: Lineage["generator"]): Lineage => ({
  campaign_id: "c", workflow_id: "wf-c", run_id: "run-1", round, commit_key: `c/${round}`, generator,
  scorers: [{ name: "reward", version: "1", config_hash: "cfg1", config: { type: "reward_model", model: `${HOME}/models/skywork-rm`, weight: 1 } }],
  selection: { policy: "best-of-n" }, winnow_version: "0.1.0"
})

/** Two rounds: a local base model named by its path, then a generator the loop trained (stored under WINNOW_HOME). */
const commitRounds = async () => {
  const evalFile = join(root, "eval-prompts.jsonl")
  await writeFile(evalFile, `${JSON.stringify({ prompt: "held out" })}\n`)
  const generators: Array<Lineage["generator"]> = [
    { model: `${HOME}/models/Qwen2.5-0.5B-Instruct/`, model_hash: BASE_HASH, sampling: { temperature: 0.7 } },
    { model: `${HOME}/.winnow/models/${"9a".repeat(8)}`, model_hash: TRAINED_HASH, model_id: "9a".repeat(32), sampling: { temperature: 0.7 } }
  ]
  for (const [i, generator] of generators.entries()) {
    const round = i + 1
    const segment = await run(store.stageSegment({ campaignId: "c", round, shard: 0, records: [sft(`q${round}`, `a${round}`, 0.5, round)] }))
    await run(store.commit({ dataset: "ds", segments: [segment], lineage: roundLineage(round, generator), dedup: { decontaminate: evalFile } }))
  }
}

const filesUnder = async (dir: string): Promise<Array<string>> =>
  (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))

const frontMatter = (card: string): string => card.split("\n---\n")[0]!

describe("dataset card", () => {
  it("names models by name and weights hash, never by a local path, in every file of the folder", async () => {
    await commitRounds()
    const repo = join(root, "repo")
    await run(store.pull({ ref: "ds", schema: "sft", format: "hf", out: repo }))
    for (const file of await filesUnder(repo)) {
      const text = await readFile(file, "utf8")
      expect(text, file).not.toContain("/home/alice")
      expect(text, file).not.toContain(root)
    }
    const card = await readFile(join(repo, "README.md"), "utf8")
    expect(card).toContain("## Models")
    expect(card).toContain(`| Qwen2.5-0.5B-Instruct | \`${BASE_HASH}\` | – | 1 |`)
    expect(card).toContain(`| trained ${"9a".repeat(6)} | \`${TRAINED_HASH}\` | \`${"9a".repeat(32)}\` | 2 |`)
    const lineageFile = JSON.parse(await readFile(join(repo, "winnow", "lineage.json"), "utf8"))
    expect(lineageFile[0].lineage.generator).toMatchObject({ model: "trained 9a9a9a9a9a9a", model_hash: TRAINED_HASH })
    expect(lineageFile[1].lineage.generator.model).toBe("Qwen2.5-0.5B-Instruct")
    expect(lineageFile[1].lineage.scorers[0].config.model).toBe("skywork-rm")
    expect(lineageFile[1].lineage.dedup.decontamination.file).toBe("eval-prompts.jsonl")
  })

  it("keeps a served model's id as it is", async () => {
    const segment = await run(store.stageSegment({ campaignId: "c", round: 1, shard: 0, records: [sft("q", "a", 0.5, 1)] }))
    await run(store.commit({ dataset: "served", segments: [segment], lineage: roundLineage(1, { model: "Qwen/Qwen2.5-7B-Instruct", model_hash: BASE_HASH, sampling: {} }) }))
    await run(store.pull({ ref: "served", schema: "sft", format: "hf", out: join(root, "repo") }))
    expect(await readFile(join(root, "repo", "README.md"), "utf8")).toContain(`| Qwen/Qwen2.5-7B-Instruct | \`${BASE_HASH}\``)
  })

  it("sets license: other with a name and an explanation by default, or the license given", async () => {
    await commitRounds()
    await run(store.pull({ ref: "ds", schema: "sft", format: "hf", out: join(root, "default") }))
    const card = await readFile(join(root, "default", "README.md"), "utf8")
    expect(frontMatter(card)).toMatch(/\nlicense: other\nlicense_name: unspecified-synthetic-data\nlicense_details: "[^"\n]*generator[^"\n]*"\n/)
    expect(card).toContain("## License")
    await run(store.pull({ ref: "ds", schema: "sft", format: "hf", out: join(root, "apache"), license: "apache-2.0" }))
    const given = await readFile(join(root, "apache", "README.md"), "utf8")
    expect(frontMatter(given)).toContain("\nlicense: apache-2.0\n")
    expect(frontMatter(given)).not.toContain("license_name")
  })

  it("refuses a license that is not a license identifier, or one given for a single file", async () => {
    await commitRounds()
    for (const license of ["Apache 2.0", "MIT\nconfigs: []", ""]) {
      expect(await failure(store.pull({ ref: "ds", schema: "sft", format: "hf", out: join(root, "x"), license })))
        .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "license", value: license }] })
    }
    expect(await failure(store.pull({ ref: "ds", schema: "sft", format: "jsonl", out: join(root, "x.jsonl"), license: "mit" })))
      .toMatchObject({ _tag: "InputInvalid", issues: [{ path: "license", value: "mit" }] })
    expect((await readdir(root)).filter((name) => name.startsWith("x"))).toEqual([])
  })
})
