import { type ChildProcessByStdio, execFile, spawn } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { createInterface, type Interface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { toolCache } from "../../core/home.js"
import { ensurePythonEnv, runPython } from "../../trainers/pythonEnv.js"
import { TRAINER_PACKAGES } from "../../trainers/packages.js"
import { ORT_PYTHON_PACKAGES } from "./ortPython.js"
import type { Timed } from "./ours.js"

const run = promisify(execFile)

export { ensureNodeLlamaCpp, NODE_LLAMA_CPP_VERSION } from "../../models/llamaCpp/install.js"
/** The llama-cpp-python sdist whose vendored llama.cpp tree gives `convert_hf_to_gguf.py` and `gguf-py` (never built). */
export const LLAMA_CPP_PYTHON_SDIST = "llama-cpp-python==0.3.36"
/** ONNX Runtime's quantizers (MatMulNBits needs onnx-ir), the same release as onnxruntime-node here. */
export const ORT_QUANTIZE_PACKAGES = [...ORT_PYTHON_PACKAGES, "onnx==1.19.1", "onnx-ir==1.1.0"] as const

/** A Python script of this folder, found from the compiled file (dist/bench/generate) or the source one alike. */
const script = (name: string): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const path = join(dir, "bench", "generate", name)
    if (existsSync(path)) return path
    if (dirname(dir) === dir) throw new Error(`cannot find bench/generate/${name} above ${fileURLToPath(import.meta.url)}`)
  }
}

/** Downloads the llama-cpp-python sdist once (no build) and unpacks llama.cpp's conversion scripts; returns that llama.cpp folder. */
export const ensureLlamaCppConverter = async (python: string, log: (line: string) => void): Promise<string> => {
  const version = LLAMA_CPP_PYTHON_SDIST.split("==")[1]!
  const dir = join(toolCache(), `llama-cpp-python-${version}-sdist`)
  const tree = join(dir, `llama_cpp_python-${version}`, "vendor", "llama.cpp")
  if (existsSync(join(tree, "convert_hf_to_gguf.py"))) return tree
  mkdirSync(dir, { recursive: true })
  log(`downloading the ${LLAMA_CPP_PYTHON_SDIST} sdist for llama.cpp's convert_hf_to_gguf.py (first use only; not built)`)
  await run(python, ["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-binary", ":all:", LLAMA_CPP_PYTHON_SDIST, "-d", dir], { maxBuffer: 16 * 2 ** 20 })
  const archive = readdirSync(dir).find((f) => f.endsWith(".tar.gz"))
  if (!archive) throw new Error(`pip download of ${LLAMA_CPP_PYTHON_SDIST} left no .tar.gz in ${dir}`)
  const inside = `llama_cpp_python-${version}/vendor/llama.cpp`
  await run("tar", ["xzf", join(dir, archive), "-C", dir, "--wildcards", `${inside}/convert_hf_to_gguf.py`, `${inside}/conversion/*`, `${inside}/gguf-py/*`])
  return tree
}

/** The GGUF files of a rotary bench model, by precision: converted once from its ONNX weights and cached beside it. */
export interface GgufFiles {
  readonly f32: string
  readonly q8_0: string
  readonly q4_0: string
  readonly q4_k_m: string
}

/** One GGUF file type made by llama-quantize from the F32 file: its file, its type and whether every tensor gets it (`--pure`). */
const QUANTIZED = [
  { key: "q8_0", type: "Q8_0", pure: true },
  { key: "q4_0", type: "Q4_0", pure: true },
  { key: "q4_k_m", type: "Q4_K_M", pure: false }
] as const

/** Every GGUF file type `ensureGguf` makes, by its key in `GgufFiles`. */
export const GGUF_TYPES: ReadonlyArray<keyof GgufFiles> = ["f32", ...QUANTIZED.map((q) => q.key)]

/**
 * The GGUF files of `modelDir` (a rotary bench model), made once: F32 by llama.cpp's converter
 * (`to_gguf.py`, in the bundled trainer's environment, which has the torch, transformers,
 * safetensors and onnx it needs; the sdist's own gguf-py goes on the path), then Q8_0, Q4_0
 * (both `--pure`: every 2-D weight, token embedding and lm_head included) and Q4_K_M (llama.cpp's
 * usual mix) by `quantize`, llama.cpp's own quantizer (`ensureLlamaCppTools`). Use it to give
 * a llama.cpp peer the same weights as the ONNX side. The quantized files sit in a folder named
 * after the quantizer's release, so a newer llama.cpp makes new ones.
 */
export const ensureGguf = async (modelDir: string, quantizer: { quantize: string; release: string }, log: (line: string) => void): Promise<GgufFiles> => {
  const out = join(toolCache(), "bench-models", `${basename(modelDir)}-gguf`)
  const f32 = join(out, "model-f32.gguf")
  if (!existsSync(f32)) {
    const python = await ensurePythonEnv(TRAINER_PACKAGES, log)
    const tree = await ensureLlamaCppConverter(python, log)
    const staging = `${out}.partial-${process.pid}`
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true })
    log(`converting ${modelDir} to GGUF F32 with llama.cpp's convert_hf_to_gguf.py`)
    await runPython(python, script("to_gguf.py"), [tree, modelDir, staging])
    rmSync(out, { recursive: true, force: true })
    renameSync(staging, out)
  }
  const quantized = join(out, `llama-quantize-${quantizer.release}`)
  const files = Object.fromEntries(QUANTIZED.map((q) => [q.key, join(quantized, `model-${q.key}.gguf`)])) as Record<(typeof QUANTIZED)[number]["key"], string>
  for (const q of QUANTIZED) {
    if (existsSync(files[q.key])) continue
    mkdirSync(quantized, { recursive: true })
    const partial = `${files[q.key]}.partial-${process.pid}`
    log(`quantizing ${f32} to ${q.type}${q.pure ? " (--pure)" : ""} with llama-quantize ${quantizer.release}`)
    await run(quantizer.quantize, [...(q.pure ? ["--pure"] : []), f32, partial, q.type, "2"], { maxBuffer: 16 * 2 ** 20 })
    renameSync(partial, files[q.key])
  }
  return { f32, ...files }
}

/** Links the converted GGUF files into the model directory's gguf/ folder, where `gguf:<type>` variants find them. */
export const linkGgufVariants = (dir: string, ggufs: GgufFiles): void => {
  mkdirSync(join(dir, "gguf"), { recursive: true })
  for (const [type, file] of Object.entries(ggufs)) {
    const link = join(dir, "gguf", `model-${type}.gguf`)
    if (existsSync(link) && readlinkSync(link) === file) continue
    rmSync(link, { force: true })
    symlinkSync(file, link)
  }
}

/** Writes `model_quantized`, `model_q8` and `model_q4` next to the model's ONNX file with ONNX Runtime's quantizers, once. */
export const ensureQuantizedOnnx = async (modelDir: string, log: (line: string) => void): Promise<void> => {
  if (["quantized", "q8", "q4"].every((v) => existsSync(join(modelDir, "onnx", `model_${v}.onnx`)))) return
  const python = await ensurePythonEnv(ORT_QUANTIZE_PACKAGES, log)
  log(`quantizing ${modelDir} with ONNX Runtime's quantizers (int8 dynamic, MatMulNBits 8 and 4 bits)`)
  await runPython(python, script("quantize_onnx.py"), [modelDir])
}

/** One llama.cpp run's answer: timing plus the generated ids of every row of every prompt. */
export interface LlamaCppTimed extends Timed {
  readonly outputs: number[][][]
}

/**
 * The llama.cpp peer: `llamaCppLoop.js` in a child process (model loaded once, n sequences in one
 * context), given one run at a time so its runs interleave with ours.
 */
export class LlamaCppPeer {
  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>, private readonly lines: Interface) {}

  /** Loads `gguf` with `threads` threads and room for `sequences` rows of `contextSize` tokens each. */
  static async start(packageDir: string, gguf: string, threads: number, sequences: number, contextSize: number): Promise<LlamaCppPeer> {
    const loop = fileURLToPath(new URL("./llamaCppLoop.js", import.meta.url))
    const child = spawn(process.execPath, [loop], { stdio: ["pipe", "pipe", "inherit"] })
    const peer = new LlamaCppPeer(child, createInterface({ input: child.stdout }))
    child.stdin.write(`${JSON.stringify({ packageDir, gguf, threads, sequences, contextSize })}\n`)
    await peer.next()
    return peer
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`llamaCppLoop exited with code ${code}`))
      this.child.once("exit", onExit)
      this.lines.once("line", (line) => {
        this.child.off("exit", onExit)
        resolve(JSON.parse(line) as Record<string, unknown>)
      })
    })
  }

  /**
   * Generates n rows per prompt (prompt evaluated once, its cache copied to the rows), seeds[p][i]
   * for row i of prompt p; prompt after prompt, or with `together` all at once (needs n × prompts sequences).
   */
  async run(prompts: readonly number[][], n: number, maxNewTokens: number, eos: readonly number[], stopAtEos: boolean, seeds: readonly number[][], temperature = 1, together = false): Promise<LlamaCppTimed> {
    const line = { prompts, n, max_new_tokens: maxNewTokens, stop_at_eos: stopAtEos, eos, seeds, temperature, together }
    this.child.stdin.write(`${JSON.stringify(line)}\n`)
    const out = (await this.next()) as { seconds: number; tokens: number; first_token_seconds: number[]; outputs: number[][][] }
    return { seconds: out.seconds, tokens: out.tokens, firstTokenSeconds: out.first_token_seconds[0] ?? Number.NaN, outputs: out.outputs }
  }

  /** Ends the child process. */
  async close(): Promise<void> {
    this.child.stdin.end()
    await new Promise((resolve) => this.child.once("exit", resolve))
  }
}
