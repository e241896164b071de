import { makeTelemetryFilterString, Runtime } from "@temporalio/worker"
import type { Logger } from "pino"
import { TemporalPinoLogger } from "./logger.js"

let installed: TemporalPinoLogger | undefined

/**
 * Routes the Temporal SDK's and its Rust core's logs through pino. Once per process, before
 * any Worker; later calls return the logger already installed.
 */
export const installTemporalRuntime = (logger: Logger): TemporalPinoLogger => {
  if (installed) return installed
  installed = new TemporalPinoLogger(logger)
  Runtime.install({
    logger: installed,
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: "WARN", other: "ERROR" }) } }
  })
  return installed
}
