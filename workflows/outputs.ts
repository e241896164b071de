import { patched } from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import type { CampaignProgress, CampaignResult, CommitInput, CommittedVersion, OutputProgress, ShardInput, ShardResult, WorkRef } from "../campaign/contracts.js"
import type { CampaignSpec } from "../campaign/spec.js"

/**
 * Patch id of a spec's `outputs`: after a shard's one generate and score, a select and a stage per
 * extra output; after a round's commit, one commit per extra output. Histories recorded before
 * it never had `outputs`, so the patch only marks the new commands.
 */
export const MULTI_OUTPUT_PATCH = "winnow-multi-output"

/** Whether a spec writes extra outputs in this run (asks `patched` only when it does). */
const writesOutputs = (spec: Pick<CampaignSpec, "outputs">): boolean => (spec.outputs?.length ?? 0) > 0 && patched(MULTI_OUTPUT_PATCH)

/**
 * Selects and stages each of the spec's `outputs` (output k = `outputs[k-1]`) from a shard's
 * scored samples, in order, after the shard's own select and stage. Use in the shard workflow;
 * undefined when the spec has no `outputs`. The accept-until limit is the first output's only.
 */
export const stageOutputs = async (
  store: Pick<Activities, "select" | "stage">,
  input: ShardInput,
  scored: WorkRef
): Promise<ShardResult["outputs"]> => {
  if (!writesOutputs(input.spec)) return undefined
  const { acceptLimit: _limit, ...shard } = input
  const staged: Array<NonNullable<ShardResult["outputs"]>[number]> = []
  for (let output = 1; output <= input.spec.outputs!.length; output++) {
    const selected = await store.select({ ...shard, scored, output })
    const segment = await store.stage({ ...shard, selected, output })
    staged.push({ accepted: selected.rows, segment })
  }
  return staged
}

/**
 * Commits the round's staging of each of the spec's `outputs` as a version of its dataset, in
 * order, with the lineage of the first output's commit except for its own selection and dedup.
 * Use right after the round's own commit, in the same non-cancellable scope; undefined when the
 * spec has no `outputs`.
 */
export const commitOutputs = async (
  store: Pick<Activities, "commit">,
  spec: Pick<CampaignSpec, "outputs">,
  first: CommitInput
): Promise<CommittedVersion[] | undefined> => {
  if (!writesOutputs(spec)) return undefined
  const committed: CommittedVersion[] = []
  for (const [i, extra] of spec.outputs!.entries()) {
    const lineage = { ...first.lineage, selection: { ...extra.selection }, dedup: extra.dedup }
    committed.push(await store.commit({ ...first, dataset: extra.dataset, output: i + 1, lineage }))
  }
  return committed
}

/** The progress of the spec's `outputs` so far (fresh entries on the first round). */
const outputsOf = (progress: CampaignProgress, spec: Pick<CampaignSpec, "outputs">): OutputProgress[] =>
  progress.outputs?.map((o) => ({ ...o })) ?? (spec.outputs ?? []).map((o) => ({ dataset: o.dataset, accepted: 0, versions: [] }))

/** Progress after a shard whose `outputs` accepted these records. Use in the shard-done callback. */
export const withShardOutputs = (progress: CampaignProgress, spec: Pick<CampaignSpec, "outputs">, shard: ShardResult["outputs"]): CampaignProgress =>
  shard === undefined
    ? progress
    : { ...progress, outputs: outputsOf(progress, spec).map((o, i) => ({ ...o, accepted: o.accepted + (shard[i]?.accepted ?? 0) })) }

/** Progress after the round's `outputs` were committed. */
export const withCommittedOutputs = (progress: CampaignProgress, spec: Pick<CampaignSpec, "outputs">, round: number, committed: CommittedVersion[] | undefined): CampaignProgress =>
  committed === undefined
    ? progress
    : {
        ...progress,
        outputs: outputsOf(progress, spec).map((o, i) => {
          const version = committed[i]
          return version ? { ...o, versions: [...o.versions, { round, version: version.version, records: version.records, added: version.added }] } : o
        })
      }

/** What a finished campaign reports of its `outputs`: each dataset's last version and its records accepted and kept. */
export const outputsResult = (progress: CampaignProgress): Pick<CampaignResult, "outputs"> =>
  progress.outputs === undefined
    ? {}
    : {
        outputs: progress.outputs.map((o) => ({
          dataset: o.dataset,
          version: o.versions.at(-1)?.version ?? null,
          accepted: o.accepted,
          kept: o.versions.reduce((sum, v) => sum + (v.added ?? 0), 0)
        }))
      }
