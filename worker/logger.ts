import type { Logger as TemporalLogger, LogLevel, LogMetadata } from "@temporalio/common"
import { pino, type Logger } from "pino"

/**
 * The process logger: pino JSON to stderr (stdout stays free for `--json` output), pretty
 * when stderr is a terminal. Level from `WINNOW_LOG_LEVEL` (default info). Create once at
 * the composition root; `defaultLevel` applies when `WINNOW_LOG_LEVEL` is unset.
 */
export const createLogger = (env: NodeJS.ProcessEnv = process.env, defaultLevel = "info"): Logger => {
  const level = env.WINNOW_LOG_LEVEL ?? defaultLevel
  const pretty = process.stderr.isTTY && env.WINNOW_LOG_FORMAT !== "json"
  return pretty
    ? pino({ level, base: { app: "winnow" } }, pino.transport({ target: "pino-pretty", options: { destination: 2, colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname,app" } }))
    : pino({ level, base: { app: "winnow" } }, pino.destination(2))
}

const LEVELS: Record<LogLevel, "trace" | "debug" | "info" | "warn" | "error"> = {
  TRACE: "trace", DEBUG: "debug", INFO: "info", WARN: "warn", ERROR: "error"
}

/**
 * Adapts pino to Temporal's Logger interface, so SDK and core logs land in the same stream, each
 * line tagged `component: "temporal"` once.
 */
export class TemporalPinoLogger implements TemporalLogger {
  private readonly logger: Logger
  constructor(logger: Logger) {
    this.logger = logger.child({ component: "temporal" })
  }
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[LEVELS[level]]({ ...meta }, message)
  }
  trace(message: string, meta?: LogMetadata): void { this.log("TRACE", message, meta) }
  debug(message: string, meta?: LogMetadata): void { this.log("DEBUG", message, meta) }
  info(message: string, meta?: LogMetadata): void { this.log("INFO", message, meta) }
  warn(message: string, meta?: LogMetadata): void { this.log("WARN", message, meta) }
  error(message: string, meta?: LogMetadata): void { this.log("ERROR", message, meta) }
}
