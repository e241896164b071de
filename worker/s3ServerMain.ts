import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { pino } from "pino"
import { ensureSeaweedFs, startS3Server } from "./s3Server.js"

/**
 * `node dist/worker/s3ServerMain.js --dir DIR [--port N] [--bucket NAME]… [--access-key K --secret-key S]`
 * (what `scripts/s3-server` runs): builds SeaweedFS if needed, starts it on loopback with its
 * data in DIR, creates the buckets, prints one JSON line (endpoint, pid, the AWS variables that
 * reach it) and stays in the foreground until SIGINT/SIGTERM, then stops the server.
 */
const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    port: { type: "string" },
    bucket: { type: "string", multiple: true },
    "access-key": { type: "string" },
    "secret-key": { type: "string" }
  }
})
const log = pino({ level: process.env.WINNOW_LOG_LEVEL ?? "info" }, pino.destination(2))
if (!values.dir) {
  process.stderr.write("--dir: expected the folder SeaweedFS keeps its data in\nUsage: scripts/s3-server --dir DIR [--port N] [--bucket NAME]... [--access-key K --secret-key S]\n")
  process.exit(2)
}
const port = values.port === undefined ? undefined : Number(values.port)
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  process.stderr.write(`--port: got ${JSON.stringify(values.port)}, expected a TCP port number (1-65535)\n`)
  process.exit(2)
}
try {
  const server = await startS3Server({
    weedPath: await ensureSeaweedFs(log),
    dataDir: resolve(values.dir),
    ...(port !== undefined ? { port } : {}),
    ...(values["access-key"] ? { accessKeyId: values["access-key"] } : {}),
    ...(values["secret-key"] ? { secretAccessKey: values["secret-key"] } : {}),
    buckets: values.bucket ?? [],
    log
  })
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, pid: server.pid, env: server.env, buckets: values.bucket ?? [] })}\n`)
  const stop = () => void server.stop().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exit(1)
}
