import { DEFAULTS } from "../core/defaults.js"
import { inputInvalid } from "../core/errors.js"
import { winnowHome } from "../core/home.js"

/** How the CLI reaches Temporal and where it keeps data; read once from the environment. */
export interface CliConfig {
  /** `TEMPORAL_ADDRESS`; when unset, winnow runs an embedded dev server. */
  readonly address: string | undefined
  readonly namespace: string
  readonly taskQueue: string
  readonly home: string
  /** `WINNOW_MODEL_MEMORY_GIB` in bytes: what loaded model copies may take; unset, the pool's default share of memory. */
  readonly modelMemoryBytes: number | undefined
}

/** Reads the CLI configuration from the environment (and a `--task-queue` override). */
export const readCliConfig = (env: NodeJS.ProcessEnv, taskQueue?: string): CliConfig => ({
  address: env.TEMPORAL_ADDRESS || undefined,
  namespace: env.TEMPORAL_NAMESPACE || DEFAULTS.namespace,
  taskQueue: taskQueue || env.WINNOW_TASK_QUEUE || DEFAULTS.taskQueue,
  home: winnowHome(env),
  modelMemoryBytes: gibibytes(env, "WINNOW_MODEL_MEMORY_GIB")
})

const gibibytes = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const text = env[name]
  if (text === undefined || text === "") return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw inputInvalid("environment", name, text, "a positive number of GiB")
  return Math.floor(value * 2 ** 30)
}
