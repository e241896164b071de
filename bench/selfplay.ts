import { type BenchSettings, benchSettings } from "./settings.js"
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { stringify } from "yaml"
import { arithmeticKey, type ArithmeticProblem, generateArithmetic } from "../campaign/promptStage/arithmetic.js"
import { renderSvg } from "../charts/render.js"
import { lineChart } from "../charts/specs.js"
import { TRAINER_PACKAGES } from "../trainers/packages.js"
import { ensurePythonEnv } from "../trainers/pythonEnv.js"
import { cachedBenchModel } from "./modelCache.js"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const log = (line: string) => process.stderr.write(`${line}\n`)

/** What the benchmark runs; every number can be set with `--name value`. */
const SETTINGS = {
  rounds: 3,
  prompts: 3072,
  /** 1: every round samples `prompts` fresh problems (a pool of prompts × rounds, `curriculum.prompts_per_round`); 0: the same prompts every round. */
  fresh: 1,
  /** Difficulty:weight of the self-play train prompts and of the held-out eval problems. */
  mix: "2:1,3:1,4:1",
  n: 8,
  temperature: 0.8,
  keep: 2,
  steps: 300,
  batch_size: 32,
  learning_rate: 5e-4,
  eval_count: 600,
  eval_n: 4,
  /**
   * The base model: pretraining steps (× 32 rows), difficulty mix of its worked solutions (short
   * chains: the loop has to carry it to longer ones), size.
   */
  pretrain_steps: 1200,
  pretrain_mix: "1:2,2:2,3:0.5",
  pretrain_lr: 3e-3,
  hidden: 128,
  layers: 4,
  intermediate: 384,
  max_new_tokens: 64,
  from: "previous",
  data: "all",
  discriminator: "steps",
  seed: 7
}
type Settings = BenchSettings<typeof SETTINGS>

const settingsOf = (args: readonly string[]): Settings => benchSettings(SETTINGS, args)

/** `1:3,2:3,3:1` → difficulty weights for `generateArithmetic`. */
const mixOf = (text: string): { weights: Record<number, number> } => ({
  weights: Object.fromEntries(text.split(",").map((part) => {
    const [d, w] = part.split(":").map(Number)
    if (!Number.isInteger(d) || !(w! >= 0)) throw new RangeError(`a difficulty mix is d:weight,…, got "${text}"`)
    return [d!, w!]
  }))
})
const promptRow = (p: ArithmeticProblem) => JSON.stringify({ id: p.id, prompt: p.prompt, reference: p.reference, lang: p.lang, difficulty: p.difficulty })

/**
 * The task's three disjoint sets: held-out eval problems, pretraining problems with worked
 * solutions (for the weak base model), and the self-play train prompts.
 */
const problemSets = (s: Settings) => {
  const mix = mixOf(s.mix)
  const held = generateArithmetic({ seed: "selfplay/eval", count: s.eval_count, difficulty: mix, langs: ["en", "zh"] })
  const exclude = new Set(held.map((p) => arithmeticKey(p.prompt)!))
  const pretrain = generateArithmetic({ seed: "selfplay/pretrain", count: s.pretrain_steps * 32, difficulty: mixOf(s.pretrain_mix), langs: ["zh", "en"], exclude })
  for (const p of pretrain) exclude.add(arithmeticKey(p.prompt)!)
  const train = generateArithmetic({ seed: "selfplay/train", count: s.fresh ? s.prompts * s.rounds : s.prompts, difficulty: mix, langs: ["zh", "en"], exclude })
  return { held, pretrain, train }
}

/** The weak base model: a tiny decoder trained briefly from scratch by the bench's own script, cached by its inputs. */
const baseModel = (python: string, dir: string, pretrain: readonly ArithmeticProblem[], s: Settings): string => {
  const data = join(dir, "pretrain.jsonl")
  writeFileSync(data, pretrain.map((p) => JSON.stringify({ prompt: p.prompt, solution: p.solution, lang: p.lang, difficulty: p.difficulty })).join("\n") + "\n")
  const size = { hidden: s.hidden, layers: s.layers, intermediate: s.intermediate, lr: s.pretrain_lr }
  const key = { steps: s.pretrain_steps, mix: s.pretrain_mix, ...size, problems: pretrain.length, first: pretrain[0]?.id, script: "make_base/2" }
  return cachedBenchModel("selfplay-base", key, (out) => {
    log(`training the base model from scratch (${s.pretrain_steps} steps, mix ${s.pretrain_mix}; cached afterwards)`)
    const started = Date.now()
    const sizeArgs = Object.entries(size).flatMap(([k, v]) => [`--${k}`, String(v)])
    const result = spawnSyncChecked(python, [join(ROOT, "bench/selfplay/make_base.py"), "--out", out, "--data", data, "--steps", String(s.pretrain_steps), ...sizeArgs, "--threads", "2", "--eval-count", "0"])
    log(`${result.split("\n").filter(Boolean).at(-1) ?? ""} (${Math.round((Date.now() - started) / 1000)} s)`)
  })
}

/**
 * PyTorch's OpenMP threads wait for each other by spinning; on a shared 2-core machine (a test
 * suite beside the bench) a training step then took 4 s instead of 0.2 s. Passive waiting kept it
 * at 0.5 s. The trainer processes winnow starts inherit this from the arms' environment.
 */
const PYTHON_ENV = { OMP_WAIT_POLICY: "PASSIVE" }

const spawnSyncChecked = (program: string, args: readonly string[]): string => {
  const run = spawnSync(program, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...PYTHON_ENV, PYTHONHASHSEED: "0", CUDA_VISIBLE_DEVICES: "" }, maxBuffer: 64 * 1024 * 1024 })
  if (run.status !== 0) throw new Error(`${program} ${args.join(" ")} exited with ${run.status}`)
  return run.stdout
}

/** The three arms: the full loop, the loop trained on every sample (no discriminator), no improve step. */
type Arm = "full" | "unfiltered" | "none"

const armSpec = (arm: Arm, base: string, trainFile: string, evalFile: string, s: Settings) => ({
  name: `selfplay-${arm}`,
  prompts: trainFile,
  generator: { model: base, n: s.n, temperature: s.temperature, top_k: 0, top_p: 1, max_new_tokens: s.max_new_tokens, seed: s.seed },
  scorers: [
    { name: "answer", type: "verifier", check: "answer_match", ...(arm === "full" && s.discriminator === "answer" ? { filter: { min: 1 } } : { weight: 0 }) },
    { name: "steps", type: "verifier", check: "arithmetic_chain", ...(arm === "full" && s.discriminator === "steps" ? { filter: { min: 1 } } : { weight: 0 }) }
  ],
  selection: arm === "full" ? { policy: "best_of_n", k: s.keep } : { policy: "threshold", min_score: -1 },
  // Arm (b)'s generator never changes, so its later rounds would sample the same model again and
  // its eval is round 0's: one round shows its curve.
  rounds: arm === "none" ? 1 : s.rounds,
  sharding: { prompts_per_shard: 64, max_concurrent_shards: 2 },
  ...(arm === "none" ? {} : {
    improve: {
      trainer: "bundled", method: "sft", from: s.from, data: s.data,
      settings: { max_steps: s.steps, batch_size: s.batch_size, learning_rate: s.learning_rate, lr_scheduler: "cosine", warmup_ratio: 0.1, seed: s.seed, save_steps: s.steps, max_length: 256 }
    }
  }),
  eval: { prompts: evalFile, n: s.eval_n, verifiers: ["answer"] },
  ...(s.fresh ? { curriculum: { prompts_per_round: s.prompts } } : {}),
  output: { dataset: `selfplay-${arm}`, dedup: { near: false } }
})

/** What one arm's campaign reported: its summary; per round the records it committed, the rows its trainer trained on, the trainer's seconds. */
interface ArmRun {
  readonly evals: Array<{ round: number; pass_at_1: number }>
  readonly seconds: number
  readonly added: number[]
  readonly trainRows: Map<number, number>
  readonly trainSeconds: Map<number, number>
}

/** Runs one arm's campaign with the winnow CLI (embedded Temporal dev server and worker) and returns its summary. */
const runArm = async (arm: Arm, specPath: string, home: string): Promise<ArmRun> => {
  log(`arm ${arm}: winnow run ${specPath}`)
  const child = spawn(process.execPath, [join(ROOT, "bin/winnow.js"), "run", specPath, "--json"], {
    env: { ...process.env, ...PYTHON_ENV, WINNOW_HOME: home, WINNOW_LOG_LEVEL: "info", WINNOW_LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let pending = ""
  const versions: number[] = []
  const trainRows = new Map<number, number>()
  const trainSeconds = new Map<number, number>()
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d: Buffer) => {
    const lines = (pending + d.toString()).split("\n")
    pending = lines.pop() ?? ""
    for (const line of lines) {
      if (!/evaluated generator|training the next generator|trained the next generator|committed version|"level":50|error/.test(line)) continue
      log(`  ${arm}: ${line.slice(0, 400)}`)
      try {
        const event = JSON.parse(line) as { msg?: string; round?: number; records?: number; metrics?: { seconds?: number } }
        if (event.msg === "committed version" && typeof event.records === "number") versions.push(event.records)
        if (event.msg === "training the next generator" && event.round !== undefined) trainRows.set(event.round, event.records ?? Number.NaN)
        if (event.msg === "trained the next generator" && event.round !== undefined) trainSeconds.set(event.round, event.metrics?.seconds ?? Number.NaN)
      } catch {
        // not a JSON log line
      }
    }
  })
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)))
  if (code !== 0) throw new Error(`arm ${arm} failed with exit code ${code}`)
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!) as { evals: ArmRun["evals"]; seconds: number }
  // A version's count is the dataset's total; a round added the difference.
  return { ...summary, added: versions.map((n, i) => n - (versions[i - 1] ?? 0)), trainRows, trainSeconds }
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`

/**
 * `npm run bench -- selfplay`: does the self-play loop make the data, and the generator, better?
 * A tiny decoder trained briefly from scratch on bilingual arithmetic starts weak; three arms run
 * through winnow with the same sampling and training budget — the full loop (sample N, keep what
 * the discriminator accepts — by default the `arithmetic_chain` verifier, right steps and answer
 * — SFT, ONNX export, next round), the loop trained on every sample (arm a, no discriminator), and
 * no improve step (arm b) — and the held-out pass@1 (final answer right) of each round's
 * generator is compared. Prints a table, writes the curve as SVG, and ends with the JSON line.
 */
export const main = async (args: string[]): Promise<void> => {
  const s = settingsOf(args)
  const started = Date.now()
  log(`settings: ${JSON.stringify(s)}`)
  const python = await ensurePythonEnv(TRAINER_PACKAGES, log)
  const dir = mkdtempSync(join(tmpdir(), "winnow-selfplay-"))
  const { held, pretrain, train } = problemSets(s)
  const trainFile = join(dir, "train.jsonl")
  const evalFile = join(dir, "eval.jsonl")
  writeFileSync(trainFile, train.map(promptRow).join("\n") + "\n")
  writeFileSync(evalFile, held.map(promptRow).join("\n") + "\n")
  const base = baseModel(python, dir, pretrain, s)
  log(`base model: ${base} (${Math.round((Date.now() - started) / 1000)} s so far)`)
  const curves: Record<Arm, number[]> = { full: [], unfiltered: [], none: [] }
  const runs = {} as Record<Arm, ArmRun>
  for (const arm of ["none", "full", "unfiltered"] as const) {
    const specPath = join(dir, `${arm}.yaml`)
    writeFileSync(specPath, stringify(armSpec(arm, base, trainFile, evalFile, s)))
    const home = join(dir, `home-${arm}`)
    mkdirSync(home, { recursive: true })
    const summary = await runArm(arm, specPath, home)
    const byRound = new Map(summary.evals.map((e) => [e.round, e.pass_at_1]))
    curves[arm] = Array.from({ length: s.rounds + 1 }, (_, r) => byRound.get(r) ?? byRound.get(0)!)
    runs[arm] = summary
    log(`arm ${arm}: pass@1 ${curves[arm].map(pct).join(" → ")} (${summary.seconds} s)`)
  }
  const trained = (arm: Arm, r: number) => (r === 0 ? "" : ` (${runs[arm].added[r - 1] ?? "?"} kept, trained on ${runs[arm].trainRows.get(r) ?? "?"} rows, ${Math.round(runs[arm].trainSeconds.get(r) ?? Number.NaN)} s)`)
  const header = `| round | full loop | (a) trained on all samples | (b) no improve step |\n| --- | --- | --- | --- |`
  const rows = curves.full.map((_, r) => `| ${r} | ${pct(curves.full[r]!)}${trained("full", r)} | ${pct(curves.unfiltered[r]!)}${trained("unfiltered", r)} | ${pct(curves.none[r]!)} |`)
  process.stderr.write(`\nheld-out pass@1 (${s.eval_count} problems × ${s.eval_n} samples at T=${s.temperature}):\n${header}\n${rows.join("\n")}\n`)
  const full = curves.full
  const rises = full.every((x, r) => r === 0 || x > full[r - 1]!)
  const gain = full.at(-1)! - full[0]!
  const margin = full.at(-1)! - curves.unfiltered.at(-1)!
  log(`goal: rises every round ${rises ? "yes" : "no"}; after ${s.rounds} rounds ${gain >= 0 ? "+" : ""}${(100 * gain).toFixed(1)} points (goal ≥ +15); ${margin >= 0 ? "+" : ""}${(100 * margin).toFixed(1)} points over (a) (goal ≥ +10)`)
  log(`seconds: full ${runs.full.seconds}, unfiltered ${runs.unfiltered.seconds}, none ${runs.none.seconds}; whole bench ${Math.round((Date.now() - started) / 1000)} s`)
  const rounds = curves.full.map((_, r) => (r === 0 ? "start" : `round ${r}`))
  const series: Array<[string, number[]]> = [["full loop", curves.full], ["(a) all samples", curves.unfiltered], ["(b) no improve", curves.none]]
  const svg = await renderSvg(lineChart({
    title: "held-out pass@1 by round (selfplay bench)", xTitle: "", yTitle: "pass@1", rate: true, labels: true,
    points: series.flatMap(([name, values]) => values.map((y, r) => ({ x: rounds[r]!, series: name, y })))
  }))
  const picture = join(ROOT, "bench/selfplay/curve.svg")
  writeFileSync(picture, svg)
  log(`curve: ${picture}`)
  const ours = curves.full.at(-1)!
  const peer = curves.unfiltered.at(-1)!
  process.stdout.write(`${JSON.stringify({ name: "selfplay", ours: round3(ours), peer: round3(peer), ratio: round3(peer > 0 ? ours / peer : Number.POSITIVE_INFINITY), unit: "pass@1", start: round3(curves.full[0]!) })}\n`)
}

const round3 = (x: number) => Math.round(x * 1000) / 1000
