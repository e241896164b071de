import { type ChildProcessByStdio, spawn } from "node:child_process"
import type { Readable, Writable } from "node:stream"
import { createInterface, type Interface } from "node:readline"
import { fileURLToPath } from "node:url"
import { ensurePythonEnv } from "../../trainers/pythonEnv.js"
import type { Timed } from "./ours.js"

/** Pinned packages of peer (a): the same ONNX Runtime release as onnxruntime-node here. */
export const ORT_PYTHON_PACKAGES = ["onnxruntime==1.30.0", "numpy==2.2.6"] as const

/**
 * Peer (a): `ort_loop.py`, a plain ONNX Runtime for Python KV-cache loop, kept running in a child
 * process (one session, loaded once) and given one run at a time, so its runs can be interleaved
 * with the other implementations'.
 */
export class OrtPythonPeer {
  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>, private readonly lines: Interface) {}

  /** Creates the pinned Python environment if needed and loads the model with `threads` intra-op threads. */
  static async start(model: string, threads: number, log: (l: string) => void): Promise<OrtPythonPeer> {
    const python = await ensurePythonEnv(ORT_PYTHON_PACKAGES, log)
    const script = fileURLToPath(new URL("../../../bench/generate/ort_loop.py", import.meta.url))
    const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] })
    const peer = new OrtPythonPeer(child, createInterface({ input: child.stdout }))
    child.stdin.write(`${JSON.stringify({ model, threads })}\n`)
    await peer.next()
    return peer
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`ort_loop.py exited with code ${code}`))
      this.child.once("exit", onExit)
      this.lines.once("line", (line) => {
        this.child.off("exit", onExit)
        resolve(JSON.parse(line) as Record<string, unknown>)
      })
    })
  }

  /**
   * Generates n samples for each prompt, one prompt after another (batch n, no row dropping). With
   * `ioBinding` (fixed length only: EOS is ignored) the loop is the strongest one the bench has: the
   * prompt prefilled once for the n rows, then zero-copy steps into preallocated caches.
   */
  async run(prompts: readonly number[][], n: number, maxNewTokens: number, eos: readonly number[], stopAtEos: boolean, seed: number, ioBinding = false): Promise<Timed> {
    this.child.stdin.write(`${JSON.stringify({ name: "run", prompts, n, max_new_tokens: maxNewTokens, stop_at_eos: stopAtEos, eos, seed, io_binding: ioBinding })}\n`)
    const out = (await this.next()) as { seconds: number; tokens: number; first_token_seconds: number[] }
    return { seconds: out.seconds, tokens: out.tokens, firstTokenSeconds: out.first_token_seconds[0] ?? Number.NaN }
  }

  /**
   * Generates n × maxNewTokens tokens (EOS ignored) after one prompt and returns the process's
   * peak resident bytes during that run. Use on a freshly started peer, as the RSS probe does for ours.
   * With `ioBinding` the peer decodes zero-copy into preallocated caches (see `ort_loop.py`).
   */
  async peakRss(prompt: readonly number[], n: number, maxNewTokens: number, ioBinding = false): Promise<number> {
    const run = { name: "rss", prompts: [prompt], n, max_new_tokens: maxNewTokens, stop_at_eos: false, eos: [], seed: 0, peak_rss: true, io_binding: ioBinding }
    this.child.stdin.write(`${JSON.stringify(run)}\n`)
    const out = (await this.next()) as { peak_rss_bytes: number }
    return out.peak_rss_bytes
  }

  /** Ends the child process. */
  async close(): Promise<void> {
    this.child.stdin.end()
    await new Promise((resolve) => this.child.once("exit", resolve))
  }
}
