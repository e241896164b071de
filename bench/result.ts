import { arch, cpus, platform, totalmem } from "node:os"

/** The final line every benchmark prints: ours against the named peer, same model and threads. */
export interface BenchResult {
  readonly name: string
  readonly ours: number
  readonly peer: number
  /** ours / peer for higher-is-better units; peer / ours for lower-is-better ones (so > 1 means we win). */
  readonly ratio: number
  readonly unit: string
}

/** Builds a result; `lowerIsBetter` flips the ratio so that a ratio above 1 always means winnow is ahead. */
export const benchResult = (name: string, ours: number, peer: number, unit: string, lowerIsBetter = false): BenchResult => ({
  name,
  ours: round(ours),
  peer: round(peer),
  ratio: round(lowerIsBetter ? peer / ours : ours / peer),
  unit
})

const round = (x: number): number => Math.round(x * 1000) / 1000

/** Prints intermediate results as JSON lines and the headline result as the final line. */
export const report = (details: readonly BenchResult[], headline: BenchResult): void => {
  for (const d of details) process.stdout.write(`${JSON.stringify(d)}\n`)
  process.stdout.write(`${JSON.stringify(headline)}\n`)
}

/** One line describing the machine, for BENCHMARKS.md. */
export const machine = (): string =>
  `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()}-${arch()}, Node ${process.version}`
