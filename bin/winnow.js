#!/usr/bin/env node
import { main } from "../dist/cli/main.js"

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
