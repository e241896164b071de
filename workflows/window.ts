import { condition } from "@temporalio/workflow"

/**
 * Runs `task` over `items` with at most `width` in flight (a sliding window of child workflows).
 * Stops launching after the first failure and rethrows it once the in-flight tasks settle.
 */
export const runWindowed = async <T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> => {
  let next = 0
  let running = 0
  let failure: { error: unknown } | undefined
  while (next < items.length && !failure) {
    await condition(() => running < width || failure !== undefined)
    if (failure) break
    const item = items[next++]!
    running++
    task(item).then(
      () => { running-- },
      (error) => { failure ??= { error }; running-- }
    )
  }
  await condition(() => running === 0)
  if (failure) throw failure.error
}
