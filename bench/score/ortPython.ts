import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { ensurePythonEnv } from "../../trainers/pythonEnv.js"

/** Pinned packages of the peer: the same ONNX Runtime release as onnxruntime-node here. */
export const ORT_PYTHON_PACKAGES = ["onnxruntime==1.30.0", "numpy==2.2.6"] as const

/** The job `ort_classify.py` loads: model file, threads, batch size, pad id and token ids. */
export interface OrtClassifyJob {
  readonly model: string
  readonly threads: number
  readonly batch_size: number
  readonly pad_id: number
  readonly rows: readonly number[][]
}

/** One repetition of the Python loop: its wall time and the sum of the logits. */
export interface OrtClassifyRep {
  readonly seconds: number
  readonly checksum: number
}

/** A running Python peer: `rep()` runs every row once more; `close()` ends it. */
export interface OrtClassifyPeer {
  rep(): Promise<OrtClassifyRep>
  close(): Promise<void>
}

/**
 * Starts the plain ONNX Runtime for Python batch loop over the same model file and token ids,
 * warmed up and waiting, so the caller can interleave its repetitions with its own.
 */
export const startOrtClassify = async (job: OrtClassifyJob, log: (l: string) => void): Promise<OrtClassifyPeer> => {
  const python = await ensurePythonEnv(ORT_PYTHON_PACKAGES, log)
  const script = fileURLToPath(new URL("../../../bench/score/ort_classify.py", import.meta.url))
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (c) => resolve(c ?? -1))
  })
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next()
    if (line.done) throw new Error(`ort_classify.py exited with code ${await exited}`)
    return JSON.parse(line.value) as Record<string, unknown>
  }
  child.stdin.write(`${JSON.stringify(job)}\n`)
  await next()
  return {
    rep: async () => {
      child.stdin.write("run\n")
      return (await next()) as unknown as OrtClassifyRep
    },
    close: async () => {
      child.stdin.end()
      await exited
    }
  }
}
