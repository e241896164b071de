import * as Effect from "effect/Effect"

/**
 * Resolves after Node's event loop has had a turn (timers, I/O callbacks, messages from other
 * threads). Use in a loop of blocking calls that must still hear what arrives meanwhile, such as an
 * inference thread's join and cancel messages between llama.cpp decode steps.
 */
export const nextEventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Gives Node's event loop a turn (timers, I/O callbacks) before going on. Use between the slices
 * of long synchronous work inside an activity: the activity's heartbeat timer only fires when the
 * loop is free, and a loop blocked for longer than the heartbeat timeout makes Temporal give up on
 * the attempt.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.promise(nextEventLoopTurn)
