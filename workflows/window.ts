import { condition } from "@temporalio/workflow"

/**
 * What steers a window while it runs: how many items may be in flight now, and whether it may
 * launch (`open`), must wait (`wait`: paused) or must launch nothing more (`stop`: a budget is
 * spent). Read afresh before every launch, so a change applies to items launched after it.
 */
export interface WindowControl<T = unknown> {
  readonly width: () => number
  /** Whether the next item may start now; `next` is the item waiting its turn. */
  readonly gate: (next: T) => "open" | "wait" | "stop"
}

/**
 * Runs `task` over `items` with at most `width` in flight (a sliding window of child workflows),
 * launching only while the gate is open. Stops launching after the first failure (and for good
 * when the gate says stop) and rethrows the failure once the in-flight tasks settle.
 */
export const runWindowed = async <T>(items: readonly T[], control: WindowControl<T>, task: (item: T) => Promise<void>): Promise<void> => {
  let next = 0
  let running = 0
  let failure: { error: unknown } | undefined
  while (next < items.length && !failure) {
    const gate = () => control.gate(items[next]!)
    await condition(() => failure !== undefined || gate() === "stop" || (gate() === "open" && running < control.width()))
    if (failure || gate() === "stop") break
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

/** How to launch one item under a quota: the item to run now, the most it may accept, and a remainder to queue. */
export interface QuotaSplit<T> {
  readonly run: T
  readonly limit: number
  readonly rest?: T
}

/**
 * Like `runWindowed`, but stops once `quota` acceptances are reached, never overshooting it: each
 * launched task reserves its `limit` (at most what is still free), so the tasks in flight can
 * never accept more than the quota together. When less is free than an item could yield, `split`
 * shrinks it (e.g. a shard to fewer prompts) and queues the rest; near the end the window
 * narrows instead of generating far beyond the quota. Returns how many were accepted.
 */
export const runWindowedWithQuota = async <T>(
  items: readonly T[],
  control: WindowControl<T>,
  quota: number,
  split: (item: T, free: number) => QuotaSplit<T>,
  task: (item: T, limit: number) => Promise<number>
): Promise<number> => {
  const queue = [...items]
  let running = 0
  let accepted = 0
  let reserved = 0
  let failure: { error: unknown } | undefined
  const free = () => quota - accepted - reserved
  while (queue.length > 0 && !failure) {
    const gate = () => control.gate(queue[0]!)
    await condition(() => failure !== undefined || gate() === "stop" || (gate() === "open" && (running === 0 || (running < control.width() && free() > 0))))
    if (failure || gate() === "stop" || free() <= 0) break
    const { run, limit, rest } = split(queue.shift()!, free())
    if (rest !== undefined) queue.unshift(rest)
    running++
    reserved += limit
    task(run, limit).then(
      (n) => { accepted += n; reserved -= limit; running-- },
      (error) => { failure ??= { error }; reserved -= limit; running-- }
    )
  }
  await condition(() => running === 0)
  if (failure) throw failure.error
  return accepted
}
