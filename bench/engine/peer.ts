import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensurePythonEnv, runPython } from "../../trainers/pythonEnv.js"

/**
 * distilabel and what it runs on, pinned to one release's era (distilabel 1.5.3, January 2025):
 * newer `datasets` and `huggingface-hub` majors break its `Distiset`. Pillow because
 * `Distiset.save_to_disk` imports it for the dataset card whether or not it is installed.
 */
export const DISTILABEL_PACKAGES = [
  "distilabel==1.5.3",
  "datasets==3.2.0",
  "huggingface-hub==0.27.1",
  "pyarrow==19.0.0",
  "pandas==2.2.3",
  "numpy==2.2.1",
  "pydantic==2.10.5",
  "requests==2.32.3",
  "setuptools==75.8.0",
  "pillow==11.1.0"
] as const

const PEER_SCRIPT = fileURLToPath(new URL("../../../bench/engine/distilabel_peer.py", import.meta.url))

/** What the peer reports: samples generated, rows kept, seconds from pipeline start to the dataset on disk. */
export interface PeerRun {
  readonly samples: number
  readonly rows: number
  readonly seconds: number
  readonly pipeline_seconds: number
  /** CPU seconds (user + system) of the peer's process and the step processes it started. */
  readonly cpu_seconds: number
}

/** Creates distilabel's environment (first use only) and returns its python. */
export const ensureDistilabel = (log: (line: string) => void): Promise<string> => ensurePythonEnv(DISTILABEL_PACKAGES, log)

/**
 * Runs distilabel's pipeline over the same prompts with N generations per prompt from its
 * do-nothing echo LLM, best-of-N on the same heuristic, and the dataset saved under `dir`.
 */
export const runPeer = async (python: string, prompts: string, n: number, dir: string, maxNewTokens: number, batch: number): Promise<PeerRun> => {
  const out = await runPython(python, PEER_SCRIPT, [prompts, String(n), join(dir, "distilabel"), String(maxNewTokens), String(batch)], { HF_HUB_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" })
  return JSON.parse(out.trim().split("\n").at(-1)!) as PeerRun
}
