import { Effect } from "effect"

/**
 * Gives Node's event loop a turn (timers, I/O callbacks) before going on. Use between the slices
 * of long synchronous work inside an activity: the activity's heartbeat timer only fires when the
 * loop is free, and a loop blocked for longer than the heartbeat timeout makes Temporal give up on
 * the attempt.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
