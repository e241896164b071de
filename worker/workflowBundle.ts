import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Logger as TemporalLogger } from "@temporalio/common"
import { bundleWorkflowCode } from "@temporalio/worker"
import { sha256 } from "../core/hash.js"
import { toolCache } from "../core/home.js"

/** The folders whose code the workflow bundle holds (workflows import pure helpers from campaign/ and core/). */
const BUNDLED_FOLDERS = ["workflows", "campaign", "core"]

const workflowsPath = (): string => {
  for (const name of ["../workflows/index.js", "../workflows/index.ts"]) {
    const path = fileURLToPath(new URL(name, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new Error("workflow sources not found next to worker/")
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(js|ts)$/.test(name) && !/\.test\.(js|ts)$/.test(name) ? [path] : []
  }).sort()

/** A key over every source file the bundle may include, and the Temporal SDK version. */
const bundleKey = (entry: string): string => {
  const root = dirname(dirname(entry))
  const sdk = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("@temporalio/workflow/package.json")), "utf8")).version as string
  const parts = BUNDLED_FOLDERS.flatMap((folder) => (existsSync(join(root, folder)) ? filesUnder(join(root, folder)) : []))
    .map((file) => `${file.slice(root.length)}\n${sha256(readFileSync(file))}`)
  return sha256([sdk, ...parts].join("\n")).slice(0, 16)
}

let memo: Promise<{ code: string }> | undefined

/**
 * The workflow bundle, built once per source version and kept in the tool cache: a worker (or a
 * `winnow run`) starts without rebuilding it when the workflow code has not changed. Memoised per
 * process.
 */
export const workflowBundle = (logger: TemporalLogger): Promise<{ code: string }> =>
  (memo ??= (async () => {
    const entry = workflowsPath()
    const cached = join(toolCache(), "workflow-bundles", `${bundleKey(entry)}.js`)
    if (existsSync(cached)) return { code: readFileSync(cached, "utf8") }
    const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger })
    mkdirSync(dirname(cached), { recursive: true })
    const staging = `${cached}.${process.pid}.tmp`
    writeFileSync(staging, code)
    renameSync(staging, cached)
    return { code }
  })())
