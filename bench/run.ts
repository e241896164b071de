import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { machine } from "./result.js"

/** The benchmarks `npm run bench -- <name>` knows; each is `bench/<name>.ts` exporting `main(args)`. */
const BENCHMARKS = ["generate", "score", "store", "selfplay", "recovery", "serve", "engine"] as const

const [name, ...args] = process.argv.slice(2)
const module = new URL(`./${name}.js`, import.meta.url)
if (!name || !(BENCHMARKS as readonly string[]).includes(name) || !existsSync(fileURLToPath(module))) {
  process.stderr.write(`usage: npm run bench -- <${BENCHMARKS.join("|")}> [options]\n`)
  process.exit(2)
}
process.stderr.write(`machine: ${machine()}\n`)
const bench = (await import(module.href)) as { main(args: string[]): Promise<void> }
await bench.main(args)
