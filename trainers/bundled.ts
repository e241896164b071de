import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { canonicalJson, sha256 } from "../core/hash.js"
import { TRAINER_PACKAGES } from "./packages.js"
import type { TrainerInvocation } from "./trainerProcess.js"

/** The bundled trainer's folder (`trainers/bundled/`), from the sources or from `dist/`. */
const bundledDir = (): string => {
  for (const candidate of ["./bundled/", "../../trainers/bundled/"]) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(`${dir}train.py`)) return dir
  }
  throw new Error("trainers/bundled/train.py not found beside the winnow sources")
}

/**
 * The bundled trainer's identity: a hash of its Python sources and pinned packages. Part of every
 * trained model's address, so a changed trainer never reuses a model an older one made.
 */
export const bundledTrainerVersion = (): string => {
  const dir = bundledDir()
  const sources = ["train.py", "modeldir.py", "export.py"].filter((f) => existsSync(dir + f)).map((f) => `${f}\n${readFileSync(dir + f, "utf8")}`)
  return sha256(canonicalJson({ sources, packages: TRAINER_PACKAGES })).slice(0, 16)
}

/** What one bundled training run needs. */
export interface BundledRun {
  readonly python: string
  readonly method: "sft" | "dpo"
  readonly base: string
  readonly data: string
  readonly out: string
  readonly work: string
  readonly settings: Readonly<Record<string, unknown>>
  /** CPU threads the trainer may use. */
  readonly threads?: number
}

/** The command line of the bundled trainer (`trainers/bundled/train.py`). */
export const bundledInvocation = (run: BundledRun): TrainerInvocation => ({
  name: "bundled",
  program: run.python,
  args: [
    `${bundledDir()}train.py`, "--mode", run.method, "--base", run.base, "--data", run.data, "--out", run.out, "--work", run.work,
    "--settings", JSON.stringify(run.settings)
  ],
  env: { PYTHONHASHSEED: "0", CUDA_VISIBLE_DEVICES: "", TOKENIZERS_PARALLELISM: "false", ...(run.threads ? { OMP_NUM_THREADS: String(run.threads) } : {}) }
})
