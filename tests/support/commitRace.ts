import { Effect } from "effect"
import { winnowHome } from "../../core/home.js"
import { storeLocation } from "../../datasets/location.js"
import { DatasetStore } from "../../datasets/store.js"
import { lineage, sft } from "./storeFixtures.js"

/**
 * Entry point for the multi-process commit race test (bundled and run by
 * `concurrency.test.ts`): `node race.mjs <root> <dataset> <campaign> <rounds>` stages and
 * commits `rounds` versions, one record each, and prints the committed ids as JSON. A root of
 * `s3://bucket[/prefix]` is an S3 store (AWS variables and WINNOW_HOME from the environment).
 */
const [root, dataset, campaignId, rounds] = process.argv.slice(2)
const home = winnowHome(process.env)
const store = root.startsWith("s3://") ? DatasetStore.at(storeLocation({ ...process.env, WINNOW_STORE: root }, home), home) : DatasetStore.make(root)
const ids: Array<string> = []
for (let round = 1; round <= Number(rounds); round++) {
  const record = sft(`${campaignId} prompt ${round}`, `answer ${round}`, round / 10, round)
  const program = Effect.gen(function*() {
    const segment = yield* store.stageSegment({ campaignId, round, shard: 0, records: [record] })
    return yield* store.commit({ dataset, segments: [segment], lineage: lineage(campaignId, round) })
  })
  ids.push((await Effect.runPromise(program)).id)
}
process.stdout.write(JSON.stringify(ids))
