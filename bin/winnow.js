#!/usr/bin/env node
import { main } from "../dist/cli/main.js"

// Piping into `head` closes stdout early: that is the reader's choice, not an error to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0)
    throw error
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    setTimeout(() => process.exit(code), 200).unref()
  },
  (error) => {
    process.stderr.write(`winnow: unexpected error: ${error?.stack ?? error}\n`)
    process.exit(1)
  }
)
