import { Schema } from "effect"

const QueueName = Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/u)))

/**
 * `task_queues`: the Temporal task queue of each kind of work, so that GPU machines run only
 * generation workers and small machines the store work. `generation`: sampling (and the prompt
 * stage, which samples); `scoring`: the scorers; `store`: preparing, selecting, staging,
 * committing and statistics. A kind left out runs on the campaign's own queue (where its
 * workflows run); training has its own `improve.task_queue`. `winnow campaign start` fills kinds
 * the spec leaves out from `WINNOW_GENERATION_QUEUE`, `WINNOW_SCORING_QUEUE` and
 * `WINNOW_STORE_QUEUE`, so every worker reads the same names from the workflow's input.
 */
export const TaskQueuesSpec = Schema.Struct({
  generation: Schema.optionalKey(QueueName),
  scoring: Schema.optionalKey(QueueName),
  store: Schema.optionalKey(QueueName)
})
/** `task_queues` as written. */
export type TaskQueuesSpec = typeof TaskQueuesSpec.Type

/** The kinds of work that can have a queue of their own. */
export type WorkKind = keyof TaskQueuesSpec

const ENV: Readonly<Record<WorkKind, string>> = { generation: "WINNOW_GENERATION_QUEUE", scoring: "WINNOW_SCORING_QUEUE", store: "WINNOW_STORE_QUEUE" }

/** True for a valid task queue name (what `task_queues`, the queue variables and `winnow worker --queues` accept). */
export const isQueueName: (name: unknown) => boolean = Schema.is(QueueName)

/** Queue names in the environment that are not valid queue names, as input issues naming the variable. */
export const envQueueIssues = (env: NodeJS.ProcessEnv): Array<{ path: string; value: unknown; expected: string }> =>
  Object.values(ENV).flatMap((name) => {
    const value = env[name]?.trim()
    return value && !isQueueName(value) ? [{ path: name, value, expected: "a task queue name: letters, digits, . _ -, at most 200 characters" }] : []
  })

/** `task_queues` with the kinds the spec leaves out taken from the environment; undefined when neither names one. */
export const taskQueuesWithEnv = (spec: TaskQueuesSpec | undefined, env: NodeJS.ProcessEnv): TaskQueuesSpec | undefined => {
  const merged: Partial<Record<WorkKind, string>> = { ...spec }
  for (const kind of Object.keys(ENV) as WorkKind[]) {
    const value = env[ENV[kind]]?.trim()
    if (merged[kind] === undefined && value) merged[kind] = value
  }
  return Object.keys(merged).length > 0 ? merged : undefined
}

/** The environment variable that names a kind's queue, for messages. */
export const queueEnvOf = (kind: WorkKind): string => ENV[kind]
