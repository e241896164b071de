import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { arch, platform } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { toolCache } from "../../core/home.js"

const run = promisify(execFile)

/** node-llama-cpp, pinned with its prebuilt Linux x64 CPU binaries (llama.cpp built by its authors, source bundled). */
export const NODE_LLAMA_CPP_VERSION = "3.22.1"

/**
 * Installs node-llama-cpp and its prebuilt linux-x64 binaries once into the tool cache (outside the
 * repo, so `npm ci` never sees it), with install scripts off: nothing is downloaded or built at run
 * time. Returns the folder holding its node_modules. Use before anything that runs llama.cpp.
 */
export const ensureNodeLlamaCpp = async (log: (line: string) => void): Promise<string> => {
  if (platform() !== "linux" || arch() !== "x64") throw new Error(`llama.cpp runs here from node-llama-cpp's linux-x64 binaries; this is ${platform()}-${arch()}`)
  const dir = join(toolCache(), `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`)
  if (existsSync(join(dir, "node_modules", "@node-llama-cpp", "linux-x64", "package.json"))) return dir
  const staging = `${dir}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  writeFileSync(join(staging, "package.json"), JSON.stringify({ name: "winnow-llama-cpp", private: true }))
  log(`installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION} into ${dir} (first use only)`)
  const packages = [`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, `@node-llama-cpp/linux-x64@${NODE_LLAMA_CPP_VERSION}`]
  await run("npm", ["install", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "--save-exact", ...packages], { cwd: staging, maxBuffer: 16 * 2 ** 20 })
  renameSync(staging, dir)
  return dir
}

/** Where node-llama-cpp keeps the prebuilt libllama and ggml libraries, and the llama.cpp source they were built from. */
export interface LlamaCppDist {
  readonly libDir: string
  readonly sourceBundle: string
}

/** The prebuilt CPU libraries and the bundled llama.cpp source of an installed node-llama-cpp. */
export const llamaCppDist = (packageDir: string): LlamaCppDist => {
  const bins = join(packageDir, "node_modules", "@node-llama-cpp", "linux-x64", "bins")
  const variant = existsSync(bins) ? readdirSync(bins).find((name) => readdirSync(join(bins, name)).some((f) => /^libllama(\.v[\d.]+)?\.so$/.test(f))) : undefined
  if (!variant) throw new Error(`no prebuilt libllama under ${bins}`)
  return { libDir: join(bins, variant), sourceBundle: join(packageDir, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle") }
}

/** The addon's C source: next to this module's source tree (`native/`), found from src or dist alike. */
const addonSource = (): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const path = join(dir, "native", "winnow_llama.c")
    if (existsSync(path)) return path
    if (dirname(dir) === dir) throw new Error(`cannot find native/winnow_llama.c above ${fileURLToPath(import.meta.url)}`)
  }
}

/**
 * Compiles winnow's llama.cpp bridge (`native/winnow_llama.c`, a Node-API addon) once per source
 * and llama.cpp release, against the headers of the bundled source and the prebuilt libllama
 * (gcc and Node's headers, nothing downloaded); returns the `.node` file. Use through `loadLlamaNative`.
 */
export const ensureLlamaAddon = async (dist: LlamaCppDist, log: (line: string) => void): Promise<string> => {
  const source = addonSource()
  const libllama = readdirSync(dist.libDir).find((f) => /^libllama(\.v[\d.]+)?\.so$/.test(f))
  if (!libllama) throw new Error(`no libllama*.so in ${dist.libDir}`)
  const key = createHash("sha256").update(readFileSync(source)).update(dist.libDir).update(process.version).digest("hex").slice(0, 12)
  const dir = join(toolCache(), `winnow-llama-addon-${key}`)
  const addon = join(dir, "winnow_llama.node")
  if (existsSync(addon)) return addon
  const staging = `${dir}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  log(`compiling winnow's llama.cpp bridge into ${dir} (first use only)`)
  const headers = join(staging, "llama.cpp")
  await run("git", ["clone", "--quiet", "--no-checkout", dist.sourceBundle, headers], { maxBuffer: 16 * 2 ** 20 })
  await run("git", ["-C", headers, "checkout", "--quiet", "HEAD", "--", "include", "ggml/include"], { maxBuffer: 16 * 2 ** 20 })
  const nodeHeaders = [join(dirname(dirname(process.execPath)), "include", "node"), "/usr/include/node"].find((d) => existsSync(join(d, "node_api.h")))
  if (!nodeHeaders) throw new Error("Node's C headers (node_api.h) are missing: install Node with its headers (Debian: libnode-dev or the nodejs package's include/node)")
  await run("gcc", [
    "-O2", "-shared", "-fPIC", "-std=c11", "-DNODE_GYP_MODULE_NAME=winnow_llama",
    `-I${nodeHeaders}`, `-I${join(headers, "include")}`, `-I${join(headers, "ggml", "include")}`,
    source, "-o", join(staging, "winnow_llama.node"),
    `-L${dist.libDir}`, `-l:${libllama}`, `-Wl,-rpath,${dist.libDir}`
  ], { maxBuffer: 16 * 2 ** 20 })
  rmSync(headers, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
  renameSync(staging, dir)
  return addon
}
