import { Connection } from "@temporalio/client"
import { NativeConnection, Worker } from "@temporalio/worker"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Logger } from "pino"
import { createActivities } from "../activities/index.js"
import { workArea } from "../datasets/workArea.js"
import { storeRoot } from "../core/home.js"
import { promptSets } from "../datasets/promptSets.js"
import { checkStoreLocation, layoutAt, type StoreLocation } from "../datasets/location.js"
import { DatasetStore } from "../datasets/store.js"
import { InferencePool, type PoolOptions } from "../models/inferencePool.js"
import { logPlacement } from "../models/modelPlacement.js"
import { modelStore } from "../models/modelStore.js"
import { OpenAIBackends } from "../models/openaiBackends.js"
import { winnowVersion } from "../core/version.js"
import { installTemporalRuntime } from "./runtime.js"
import { workflowBundle } from "./workflowBundle.js"
import { ensureSearchAttributes } from "./searchAttributes.js"

/** Everything a worker process needs to know, read once at the composition root. */
export interface WorkerConfig {
  readonly address: string
  readonly namespace: string
  readonly taskQueue: string
  /** More task queues to take activities from (`winnow worker --queues`): the kinds of work `task_queues` sends elsewhere. */
  readonly alsoServe?: readonly string[]
  readonly home: string
  /** Where the dataset store lives (`WINNOW_STORE`); default: the folder `<home>/store`. */
  readonly store?: StoreLocation
  readonly pool: PoolOptions
  readonly logger: Logger
}

/** A running worker; `shutdown` drains it and releases threads and connections. */
export interface RunningWorker {
  readonly done: Promise<void>
  shutdown(): Promise<void>
}

/**
 * The composition root of a worker: Temporal runtime and logger, workflow bundle, inference
 * threads and dataset store wired into the activities, polling its task queue (workflows and
 * activities) and any others it also serves (activities).
 */
export const startWorker = async (config: WorkerConfig): Promise<RunningWorker> => {
  if (config.store) {
    const problem = await checkStoreLocation(config.store)
    if (problem) throw problem
  }
  const temporalLogger = installTemporalRuntime(config.logger)
  const client = await Connection.connect({ address: config.address })
  await ensureSearchAttributes(client, config.namespace).finally(() => client.close())
  const connection = await NativeConnection.connect({ address: config.address })
  const services = ManagedRuntime.make(Layer.mergeAll(
    InferencePool.layer(config.pool, logPlacement(config.logger)),
    OpenAIBackends.layer(config.logger),
    DatasetStore.layer(layoutAt(config.store ?? { kind: "fs", root: storeRoot(config.home) }, config.home))
  ))
  const deps = await services.runPromise(Effect.gen(function* () {
    return { pool: yield* InferencePool, backends: yield* OpenAIBackends, store: yield* DatasetStore }
  }))
  const activities = createActivities({
    ...deps,
    work: workArea(storeRoot(config.home)),
    models: modelStore(config.home),
    prompts: promptSets(storeRoot(config.home)),
    logger: config.logger,
    winnowVersion: winnowVersion()
  })
  const queues = [...new Set([config.taskQueue, ...(config.alsoServe ?? [])])]
  const bundle = await workflowBundle(temporalLogger)
  const workers = await Promise.all(queues.map((taskQueue, i) => Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    ...(i === 0 ? { workflowBundle: bundle } : {}),
    activities,
    maxConcurrentActivityTaskExecutions: Math.max(2, config.pool.threads * 2),
    shutdownGraceTime: "10s"
  })))
  const stopAll = () => { for (const w of workers) if (w.getState() === "RUNNING") w.shutdown() }
  const done = Promise.all(workers.map((w) => w.run().catch((e) => { stopAll(); throw e }))).then(() => undefined).finally(async () => {
    await services.dispose()
    await connection.close()
  })
  config.logger.info({ taskQueue: config.taskQueue, ...(queues.length > 1 ? { activityQueues: queues.slice(1) } : {}), address: config.address }, "worker started")
  return {
    done,
    shutdown: async () => {
      stopAll()
      await done
    }
  }
}
