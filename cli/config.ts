import { DEFAULTS } from "../core/defaults.js"
import { inputInvalid } from "../core/errors.js"
import { winnowHome } from "../core/home.js"
import { checkStoreLocation, storeLocation, type StoreLocation } from "../datasets/location.js"
import { DatasetStore, type DatasetStoreApi } from "../datasets/store.js"

/** How the CLI reaches Temporal and where it keeps data; read once from the environment. */
export interface CliConfig {
  /** `TEMPORAL_ADDRESS`; when unset, winnow runs an embedded dev server. */
  readonly address: string | undefined
  readonly namespace: string
  readonly taskQueue: string
  readonly home: string
  /** `WINNOW_MODEL_MEMORY_GIB` in bytes: what loaded model copies may take; unset, the pool's default share of memory. */
  readonly modelMemoryBytes: number | undefined
  /** `WINNOW_STORE`: where the dataset store lives (default: the folder `<home>/store`). */
  readonly store: StoreLocation
}

/** Reads the CLI configuration from the environment (and a `--task-queue` override). */
export const readCliConfig = (env: NodeJS.ProcessEnv, taskQueue?: string): CliConfig => {
  const home = winnowHome(env)
  return {
    address: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || DEFAULTS.namespace,
    taskQueue: taskQueue || env.WINNOW_TASK_QUEUE || DEFAULTS.taskQueue,
    home,
    modelMemoryBytes: gibibytes(env, "WINNOW_MODEL_MEMORY_GIB"),
    store: storeLocation(env, home)
  }
}

/**
 * The dataset store `config` names, checked first when it is S3 (the bucket exists, the
 * credentials are accepted): a bad `WINNOW_STORE` or credentials fail here with `InputInvalid`
 * naming the variable, before a command or worker touches anything.
 */
export const openDatasetStore = async (config: CliConfig): Promise<DatasetStoreApi> => {
  const problem = await checkStoreLocation(config.store)
  if (problem) throw problem
  return DatasetStore.at(config.store, config.home)
}

const gibibytes = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const text = env[name]
  if (text === undefined || text === "") return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw inputInvalid("environment", name, text, "a positive number of GiB")
  return Math.floor(value * 2 ** 30)
}
