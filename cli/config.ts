import { DEFAULTS } from "../campaign/defaults.js"
import { winnowHome } from "../core/home.js"

/** How the CLI reaches Temporal and where it keeps data; read once from the environment. */
export interface CliConfig {
  /** `TEMPORAL_ADDRESS`; when unset, winnow runs an embedded dev server. */
  readonly address: string | undefined
  readonly namespace: string
  readonly taskQueue: string
  readonly home: string
}

/** Reads the CLI configuration from the environment (and a `--task-queue` override). */
export const readCliConfig = (env: NodeJS.ProcessEnv, taskQueue?: string): CliConfig => ({
  address: env.TEMPORAL_ADDRESS || undefined,
  namespace: env.TEMPORAL_NAMESPACE || DEFAULTS.namespace,
  taskQueue: taskQueue || env.WINNOW_TASK_QUEUE || DEFAULTS.taskQueue,
  home: winnowHome(env)
})
