import { rm, rmdir } from "node:fs/promises"
import { dirname } from "node:path"
import { Effect } from "effect"
import type { CleanWorkInput } from "../campaign/contracts.js"
import type { ActivityDeps } from "./deps.js"

/**
 * Deletes a committed round's work files (every generated sample with its scores, and the
 * selections), then the campaign's work folder once it is empty. Run after the round's commit,
 * which is the last reader. Never fails: a file it cannot remove is logged and left for later.
 */
export const cleanWork = (deps: ActivityDeps) => (input: CleanWorkInput): Effect.Effect<{ readonly removed: boolean }> =>
  Effect.promise(async () => {
    const round = deps.work.roundDir(input.campaignId, input.round, input.purpose)
    try {
      await rm(round, { recursive: true, force: true })
      await rmdir(dirname(round)).catch(() => undefined)
      return { removed: true }
    } catch (error) {
      deps.logger.warn({ path: round, err: error }, "could not remove a round's work files")
      return { removed: false }
    }
  })
