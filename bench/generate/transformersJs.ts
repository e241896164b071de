import { basename, dirname } from "node:path"
import type { Timed } from "./ours.js"

/** The parts of @huggingface/transformers the benchmark uses (loaded lazily: it is a devDependency). */
interface TransformersJs {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string }
  Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown
  AutoModelForCausalLM: {
    from_pretrained(id: string, options: Record<string, unknown>): Promise<TransformersJsModel>
  }
}

interface TransformersJsModel {
  generate(options: Record<string, unknown>): Promise<{ data: BigInt64Array; dims: number[] }>
  dispose(): Promise<void>
}

/**
 * Peer (b): transformers.js generating the same sequences from the same model directory and
 * ONNX file with the same thread count. It has no `num_return_sequences`, so each prompt is
 * repeated n times along the batch; rows that reach EOS keep generating until all have.
 */
export class TransformersJsPeer {
  private constructor(private readonly lib: TransformersJs, private readonly model: TransformersJsModel) {}

  /** Loads the model directory with local files only. */
  static async load(modelDir: string, threads: number): Promise<TransformersJsPeer> {
    const lib = (await import("@huggingface/transformers")) as unknown as TransformersJs
    lib.env.allowRemoteModels = false
    lib.env.allowLocalModels = true
    lib.env.localModelPath = dirname(modelDir)
    const model = await lib.AutoModelForCausalLM.from_pretrained(basename(modelDir), {
      local_files_only: true,
      dtype: "fp32",
      device: "cpu",
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" }
    })
    return new TransformersJsPeer(lib, model)
  }

  /** Generates n samples for each prompt, one prompt after another; counts tokens up to each row's EOS. */
  async run(prompts: readonly number[][], n: number, maxNewTokens: number, eos: readonly number[], stopAtEos: boolean): Promise<Timed> {
    let seconds = 0
    let tokens = 0
    let first = 0
    for (const prompt of prompts) {
      const ids = new BigInt64Array(n * prompt.length)
      for (let r = 0; r < n; r++) prompt.forEach((id, i) => (ids[r * prompt.length + i] = BigInt(id)))
      const inputIds = new this.lib.Tensor("int64", ids, [n, prompt.length])
      const mask = new this.lib.Tensor("int64", new BigInt64Array(n * prompt.length).fill(1n), [n, prompt.length])
      const started = performance.now()
      const out = await this.model.generate({
        input_ids: inputIds,
        attention_mask: mask,
        max_new_tokens: maxNewTokens,
        ...(stopAtEos ? {} : { min_new_tokens: maxNewTokens }),
        do_sample: true,
        top_k: 50,
        temperature: 1,
        eos_token_id: [...eos]
      })
      seconds += (performance.now() - started) / 1000
      const width = out.dims[1]!
      for (let r = 0; r < n; r++) {
        let t = prompt.length
        while (t < width && !eos.includes(Number(out.data[r * width + t]))) t++
        tokens += t - prompt.length
      }
      if (first === 0) first = seconds
    }
    return { seconds, tokens, firstTokenSeconds: Number.NaN }
  }

  /** Releases the sessions. */
  close(): Promise<void> {
    return this.model.dispose()
  }
}
