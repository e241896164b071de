import { type ActivityOptions, proxyActivities } from "@temporalio/workflow"
import type { Activities } from "../activities/index.js"
import type { CampaignSpec } from "../campaign/spec.js"
import { httpGenerationProfile, inferenceProfile, storeProfile } from "./profiles.js"

const on = (profile: ActivityOptions, queue: string | undefined): ActivityOptions => (queue === undefined ? profile : { ...profile, taskQueue: queue })

/**
 * The activities of a spec, each kind on its queue (`task_queues`; a kind left out runs on the
 * workflow's own queue, which is also what specs written before queues existed get, so their
 * histories replay unchanged). Use in workflow code instead of proxying with a bare profile.
 */
export const activitiesOf = (spec: Pick<CampaignSpec, "task_queues" | "generator">) => {
  const queues = spec.task_queues ?? {}
  const backend = spec.generator.backend
  return {
    generation: proxyActivities<Activities>(on(backend?.type === "openai" ? httpGenerationProfile(backend.max_retries) : inferenceProfile, queues.generation)),
    scoring: proxyActivities<Activities>(on(inferenceProfile, queues.scoring)),
    /** Model work that is not one of the two kinds (the prompt stage samples: the generation queue). */
    promptStage: proxyActivities<Activities>(on(inferenceProfile, queues.generation)),
    store: proxyActivities<Activities>(on(storeProfile, queues.store))
  }
}
