import { type BatchBudget, MAX_KV_BYTES } from "./batchPlan.js"
import { DecoderSession } from "./decoderSession.js"
import { type GeneratedSample, type GenerationRequest, generateBatch } from "./generate.js"
import { LlamaEngine } from "./llamaCpp/engine.js"
import { generateWithLlama } from "./llamaCpp/generate.js"
import type { ModelDir } from "./modelDir.js"
import type { SessionSettings } from "./onnxSession.js"
import { readGraphSignature } from "./onnxSignature.js"

/**
 * What runs a local generator's model: ONNX Runtime over an ONNX file, or llama.cpp over a GGUF
 * file. Both take the same batched request (tokens in, sampled samples out); tokenizing, chat
 * templates and text stay in `LocalGenerator`.
 */
export interface GenerationBackend {
  /** KV-cache bytes one cached token takes. */
  readonly kvBytesPerToken: number
  /** The batch budget this backend holds to (llama.cpp: its context's KV cells and sequences). */
  readonly budget: BatchBudget
  /**
   * The graph quantizes activations with one scale over the whole batch (ONNX Runtime's dynamic
   * int8, `model_quantized`), so a row's tokens depend on the other rows decoded with it: such
   * models get one prompt per batch.
   */
  readonly rowsCoupled: boolean
  run(request: GenerationRequest): Promise<GeneratedSample[]>
  close(): Promise<void>
}

/** Opens the backend a model directory's weights need, its batch budget fitted to what the backend holds. */
export const openGenerationBackend = async (dir: ModelDir, settings: SessionSettings, budget: BatchBudget): Promise<GenerationBackend> => {
  if (dir.format === "gguf") {
    const engine = await LlamaEngine.open(dir.weightsPath, {
      threads: settings.intraOpThreads,
      contextTokens: budget.maxKvTokens,
      kvMegabytes: Math.floor(MAX_KV_BYTES / 2 ** 20),
      sequences: Math.min(256, budget.maxRows)
    })
    return {
      kvBytesPerToken: engine.info.kvBytesPerToken,
      budget: { ...budget, maxKvTokens: engine.info.contextTokens, maxRows: engine.info.sequences },
      rowsCoupled: false,
      run: (request) => generateWithLlama(engine, request),
      close: async () => engine.close()
    }
  }
  const decoder = await DecoderSession.open(dir, settings)
  const { kvBytesPerToken } = decoder.layout
  return {
    kvBytesPerToken,
    budget: { ...budget, maxKvTokens: Math.max(1, Math.min(budget.maxKvTokens, Math.floor(MAX_KV_BYTES / kvBytesPerToken))) },
    rowsCoupled: quantizesAcrossRows(dir.weightsPath),
    run: (request) => generateBatch(decoder, request),
    close: () => decoder.close()
  }
}

/** Operators that quantize activations with scales computed over a whole input tensor, i.e. across the rows of a batch. */
const BATCH_WIDE_QUANTIZERS = ["DynamicQuantizeLinear", "DynamicQuantizeMatMul"]

/**
 * Whether the model's graph makes a row's numbers depend on the other rows of its batch: ONNX
 * Runtime's dynamic quantization (`quantize_dynamic`, the usual `model_quantized.onnx`) computes
 * one int8 scale and zero point per MatMul input tensor, over every row. Weight-only formats
 * (MatMulNBits `model_q4`, whose int8 activation blocks are taken per row) and float graphs do not.
 */
export const quantizesAcrossRows = (onnxPath: string): boolean => {
  const ops = readGraphSignature(onnxPath).opTypes
  return BATCH_WIDE_QUANTIZERS.some((op) => ops.has(op))
}
