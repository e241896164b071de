import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ensurePythonEnv } from "../pythonEnv.js"

/** Pinned packages of peer (a): the same ONNX Runtime release as onnxruntime-node here. */
export const ORT_PYTHON_PACKAGES = ["onnxruntime==1.30.0", "numpy==2.2.6"] as const

/** One run of the Python loop: prompts, samples per prompt, length limit, EOS handling. */
export interface OrtPythonRun {
  readonly name: string
  readonly prompts: readonly number[][]
  readonly n: number
  readonly max_new_tokens: number
  readonly stop_at_eos: boolean
  readonly eos: readonly number[]
  readonly seed: number
}

/** What the Python loop reports for one run. */
export interface OrtPythonResult {
  readonly name: string
  readonly seconds: number
  readonly tokens: number
  readonly first_token_seconds: number[]
  /** seconds of each prompt of the run, in order */
  readonly per_prompt: number[]
  readonly prompts: number
}

/** Runs `ort_loop.py` once over several runs (one session, loaded once) and returns its results by name. */
export const runOrtPython = async (model: string, threads: number, runs: readonly OrtPythonRun[], log: (l: string) => void): Promise<Map<string, OrtPythonResult>> => {
  const python = await ensurePythonEnv(ORT_PYTHON_PACKAGES, log)
  const script = fileURLToPath(new URL("../../../bench/generate/ort_loop.py", import.meta.url))
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] })
  let stdout = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stdin.end(JSON.stringify({ model, threads, runs }))
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (c) => resolve(c ?? -1))
  })
  if (code !== 0) throw new Error(`ort_loop.py exited with code ${code}`)
  const results = stdout.trim().split("\n").map((line) => JSON.parse(line) as OrtPythonResult)
  return new Map(results.map((r) => [r.name, r]))
}
