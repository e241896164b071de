import { spawn } from "node:child_process"
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { toolCache } from "../../core/home.js"
import { ensureNodeLlamaCpp } from "./llamaCpp.js"

/** The llama.cpp programs the benches build from source: the OpenAI-compatible server and the quantizer. */
export interface LlamaCppTools {
  /** llama.cpp's release tag, as node-llama-cpp's prebuilt binaries name it (e.g. `v0.5.0`). */
  readonly release: string
  readonly server: string
  readonly quantize: string
}

/** The targets built, and the binaries kept from them. */
const TARGETS = ["llama-server", "llama-quantize"] as const

/**
 * CMake options of the build: CPU only, tuned for this machine, static (the binaries are copied
 * out of the build tree, which is then removed), nothing that reaches the network: no curl, no
 * TLS, and no web UI (a build would otherwise try to download prebuilt UI assets).
 */
const CMAKE_OPTIONS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DGGML_NATIVE=ON",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_APP=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF"
]

/** Where node-llama-cpp keeps the llama.cpp sources its binaries were built from (a git bundle) and their release tag. */
const llamaCppSources = (packageDir: string): { bundle: string; release: string } => {
  const llama = join(packageDir, "node_modules", "node-llama-cpp", "llama")
  const release = (JSON.parse(readFileSync(join(llama, "binariesGithubRelease.json"), "utf8")) as { release?: unknown }).release
  if (typeof release !== "string" || !/^[\w.-]+$/.test(release)) throw new Error(`${llama}/binariesGithubRelease.json names no release tag`)
  return { bundle: join(llama, "gitRelease.bundle"), release }
}

/** Runs a command with its output appended to `logFile`; fails with the log's last lines. */
const runLogged = (command: string, args: readonly string[], cwd: string, logFile: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const fd = openSync(logFile, "a")
    const child = spawn(command, args, { cwd, stdio: ["ignore", fd, fd] })
    child.once("error", (error) => {
      closeSync(fd)
      reject(error)
    })
    child.once("exit", (code, signal) => {
      closeSync(fd)
      if (code === 0) return resolve()
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n")
      reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}); end of ${logFile}:\n${tail}`))
    })
  })

/**
 * Builds llama.cpp's `llama-server` and `llama-quantize` once (CPU, Release, `GGML_NATIVE`, two
 * jobs) from the sources node-llama-cpp ships for its prebuilt binaries, so the server and the
 * quantizer are the same llama.cpp release as the generate bench's peer. Use it before starting a
 * llama.cpp server peer or quantizing a GGUF file. The binaries land in
 * `<tool cache>/llama.cpp-<release>/bin/`; the build runs in a staging folder renamed into place
 * at the end, so a killed build never leaves a half cache (its log stays in the staging folder).
 * A first build takes several minutes on two cores; later calls return at once.
 */
export const ensureLlamaCppTools = async (log: (line: string) => void): Promise<LlamaCppTools> => {
  const packageDir = await ensureNodeLlamaCpp(log)
  const { bundle, release } = llamaCppSources(packageDir)
  const dir = join(toolCache(), `llama.cpp-${release}`)
  const tools = { release, server: join(dir, "bin", TARGETS[0]), quantize: join(dir, "bin", TARGETS[1]) }
  if (existsSync(tools.server) && existsSync(tools.quantize)) return tools
  const staging = `${dir}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(join(staging, "bin"), { recursive: true })
  const buildLog = join(staging, "build.log")
  const source = join(staging, "src")
  const build = join(staging, "build")
  log(`building llama.cpp ${release} (${TARGETS.join(", ")}) from node-llama-cpp's source bundle into ${dir} (first use only; log in build.log there)`)
  const started = performance.now()
  await runLogged("git", ["clone", "--quiet", bundle, source], staging, buildLog)
  await runLogged("cmake", ["-S", source, "-B", build, ...CMAKE_OPTIONS], staging, buildLog)
  await runLogged("cmake", ["--build", build, "--config", "Release", "-j", "2", "--target", ...TARGETS], staging, buildLog)
  for (const target of TARGETS) copyFileSync(join(build, "bin", target), join(staging, "bin", target))
  rmSync(source, { recursive: true, force: true })
  rmSync(build, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
  renameSync(staging, dir)
  log(`built llama.cpp ${release} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return tools
}
