import { runActivity } from "./boundary.js"
import { cleanWork } from "./cleanWork.js"
import { commit } from "./commit.js"
import type { ActivityDeps } from "./deps.js"
import { generate } from "./generate.js"
import { prepare } from "./prepare.js"
import { roundStats } from "./roundStats.js"
import { score } from "./score.js"
import { evalStats } from "./evalStats.js"
import { improve } from "./improve.js"
import { planRound } from "./planRound.js"
import { select } from "./select.js"
import { updateCurriculum } from "./updateCurriculum.js"
import { writePrompts } from "./writePrompts.js"
import { stage } from "./stage.js"
import { openReview } from "./openReview.js"
import { applyReview } from "./applyReview.js"

/**
 * Builds winnow's activities over their dependencies. Each activity is a thin adapter in a file
 * of its own (none imports another): it runs an Effect at the Temporal boundary, where typed
 * errors become retryable or final failures.
 */
export const createActivities = (deps: ActivityDeps) => {
  const boundary = <I, O>(make: (deps: ActivityDeps) => (input: I) => Parameters<typeof runActivity<O>>[0]) => {
    const activity = make(deps)
    return (input: I): Promise<O> => runActivity(activity(input))
  }
  return {
    prepare: boundary(prepare),
    generate: boundary(generate),
    score: boundary(score),
    select: boundary(select),
    stage: boundary(stage),
    roundStats: boundary(roundStats),
    commit: boundary(commit),
    cleanWork: boundary(cleanWork),
    planRound: boundary(planRound),
    updateCurriculum: boundary(updateCurriculum),
    evalStats: boundary(evalStats),
    improve: boundary(improve),
    writePrompts: boundary(writePrompts),
    openReview: boundary(openReview),
    applyReview: boundary(applyReview)
  }
}

/** The activity interface the workflows proxy (types only cross into workflow code). */
export type Activities = ReturnType<typeof createActivities>
export type { ActivityDeps } from "./deps.js"
