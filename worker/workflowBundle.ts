import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
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

/**
 * `WINNOW_HEARTBEAT_TIMEOUT_SECONDS`: the heartbeat timeout (seconds) of the inference and store
 * activities the bundled workflows schedule, instead of `workflows/profiles.ts`'s default. Meant
 * for measuring recovery after a worker dies (`bench/recovery.ts` runs the old 120 s beside the
 * default); every worker of a cluster should agree on it. Unset or empty: the default.
 */
const heartbeatTimeoutOverride = (env: NodeJS.ProcessEnv = process.env): number | undefined => {
  const raw = env.WINNOW_HEARTBEAT_TIMEOUT_SECONDS
  if (raw === undefined || raw.trim() === "") return undefined
  const seconds = Number(raw)
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`WINNOW_HEARTBEAT_TIMEOUT_SECONDS: got ${JSON.stringify(raw)}, expected a number of seconds above 0`)
  return seconds
}

/** Webpack's `DefinePlugin`, from the webpack the Temporal bundler itself uses. */
const definePlugin = (definitions: Record<string, string>): unknown => {
  const webpack = createRequire(fileURLToPath(import.meta.resolve("@temporalio/worker")))("webpack") as { DefinePlugin: new (d: Record<string, string>) => unknown }
  return new webpack.DefinePlugin(definitions)
}

/** A key over every source file the bundle may include, the Temporal SDK version and the heartbeat override. */
const bundleKey = (entry: string, heartbeat: number | undefined): string => {
  const root = dirname(dirname(entry))
  const sdk = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("@temporalio/workflow/package.json")), "utf8")).version as string
  const parts = BUNDLED_FOLDERS.flatMap((folder) => (existsSync(join(root, folder)) ? filesUnder(join(root, folder)) : []))
    .map((file) => `${file.slice(root.length)}\n${sha256(readFileSync(file))}`)
  return sha256([sdk, ...(heartbeat === undefined ? [] : [`heartbeat=${heartbeat}`]), ...parts].join("\n")).slice(0, 16)
}

let memo: Promise<{ code: string }> | undefined

/**
 * The workflow bundle, built once per source version and kept in the tool cache: a worker (or a
 * `winnow run`) starts without rebuilding it when the workflow code has not changed. Memoised per
 * process. With `WINNOW_HEARTBEAT_TIMEOUT_SECONDS` set, a bundle of its own carrying that timeout.
 */
export const workflowBundle = (logger: TemporalLogger): Promise<{ code: string }> =>
  (memo ??= (async () => {
    const entry = workflowsPath()
    const heartbeat = heartbeatTimeoutOverride()
    const cached = join(toolCache(), "workflow-bundles", `${bundleKey(entry, heartbeat)}.js`)
    if (existsSync(cached)) return { code: readFileSync(cached, "utf8") }
    const { code } = await bundleWorkflowCode({
      workflowsPath: entry,
      logger,
      ...(heartbeat === undefined ? {} : {
        webpackConfigHook: (config) => ({ ...config, plugins: [...(config.plugins ?? []), definePlugin({ WINNOW_HEARTBEAT_TIMEOUT_SECONDS: JSON.stringify(heartbeat) }) as never] })
      })
    })
    mkdirSync(dirname(cached), { recursive: true })
    const staging = `${cached}.${process.pid}.tmp`
    writeFileSync(staging, code)
    renameSync(staging, cached)
    return { code }
  })())
