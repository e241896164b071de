import type { Logger } from "pino"
import type { DatasetStore } from "../datasets/store.js"
import type { InferencePool } from "../models/inferencePool.js"
import type { WorkArea } from "./workArea.js"

/** What the activities need from the worker's composition root. */
export interface ActivityDeps {
  readonly pool: InferencePool["Service"]
  readonly store: DatasetStore["Service"]
  readonly work: WorkArea
  readonly logger: Logger
  readonly winnowVersion: string
}
