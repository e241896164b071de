import { existsSync } from "node:fs"
import { Effect } from "effect"
import type { UpdateCurriculumInput } from "../campaign/loopContracts.js"
import { splitHintedId } from "../campaign/curriculum/hint.js"
import { type CurriculumState, emptyCurriculum, encodeCurriculum, type RoundResult, updatePassRates } from "../campaign/curriculum/passRates.js"
import { passesVerifiers } from "../campaign/evaluation.js"
import { keptSample, type ScoredRow, type SelectedRow } from "../campaign/rows.js"
import { type WinnowError } from "../core/errors.js"
import { sha256 } from "../core/hash.js"
import { readRows, readState, writeState } from "../datasets/workArea.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Adds a round's per-prompt results to the curriculum: samples, samples every verifier accepted,
 * and records kept, from the round's scored and selected work files. Writes the new state
 * content-addressed and returns its hash. Runs before the round's work files are cleaned.
 */
export const updateCurriculum = (deps: ActivityDeps) => (input: UpdateCurriculumInput): Effect.Effect<string, WinnowError> =>
  Effect.gen(function* () {
    const verifiers = input.spec.scorers.filter((s) => s.type === "verifier").map((s) => s.name)
    const threshold = input.spec.selection.min_score
    const tallies = new Map<string, { samples: number; passed: number; kept: number }>()
    const tally = (id: string) => {
      const found = tallies.get(id) ?? { samples: 0, passed: 0, kept: 0 }
      tallies.set(id, found)
      return found
    }
    for (const shard of input.shards) {
      const scored = deps.work.shardFile(input.campaignId, input.round, shard, "scored")
      const selected = deps.work.shardFile(input.campaignId, input.round, shard, "selected")
      if (existsSync(scored)) {
        for (const row of yield* readRows<ScoredRow>(scored)) {
          const t = tally(row.prompt_id)
          t.samples++
          const passed = verifiers.length > 0 ? passesVerifiers(row.scores, verifiers) : row.passed && (threshold === undefined || row.score >= threshold)
          if (passed) t.passed++
        }
      }
      if (existsSync(selected)) for (const row of yield* readRows<SelectedRow>(selected)) tally(keptSample(row).prompt_id).kept++
    }
    const results: RoundResult[] = [...tallies].map(([id, t]) => {
      const { id: promptId, hinted } = splitHintedId(id)
      return { promptId, samples: t.samples, passed: t.passed, kept: t.kept, hinted }
    })
    const state = input.curriculum === undefined
      ? emptyCurriculum()
      : yield* readState<CurriculumState>(deps.work.stateFile(input.campaignId, "curriculum", input.curriculum))
    const text = encodeCurriculum(updatePassRates(state, results, input.round))
    const hash = sha256(text)
    yield* writeState(deps.work.stateFile(input.campaignId, "curriculum", hash), text)
    return hash
  })
