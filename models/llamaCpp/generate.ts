import { InferenceFailed } from "../../core/errors.js"
import { nextEventLoopTurn } from "../../core/eventLoop.js"
import type { GeneratedSample, GenerationRequest, PromptGroup } from "../generate.js"
import { GroupTally, type Row, type RowLogits, sampleStep } from "../rowSampling.js"
import type { LlamaEngine, LlamaToken } from "./engine.js"

/**
 * `generateBatch` for a GGUF model run by llama.cpp: each prompt is decoded once into the
 * sequences of all its samples (they share its KV cells), every sample draws its first token from
 * the prompt's last logits, then one llama_decode per step carries every running row's last token
 * and the prompts of groups admitted at that step (continuous batching). Sampling, seeding, stop
 * strings and statistics are the ONNX loop's (`rowSampling.ts`); a finished row's sequence is freed
 * at once. llama_decode blocks, so the loop gives the event loop a turn after every step: that is
 * when an inference thread receives the prompts that join and the cancels (ONNX Runtime's `run()`
 * yields on its own).
 */
export const generateWithLlama = async (engine: LlamaEngine, request: GenerationRequest): Promise<GeneratedSample[]> => {
  if (request.groups.length === 0) return []
  const { vocab } = engine.info
  const tally = new GroupTally(request.onGroupDone)
  const seqOf = new Map<Row, number>()
  const release = (row: Row) => {
    const seq = seqOf.get(row)
    if (seq === undefined) return
    seqOf.delete(row)
    engine.release(seq)
  }
  try {
    let candidates = decodeStep(engine, [], request.groups, request, tally, seqOf)
    for (let step = 0; ; step++) {
      const alive = await sampleStep(candidates, vocab, request, tally, step === 0)
      const going = new Set(alive.map((l) => l.row))
      for (const { row } of candidates) if (!going.has(row)) release(row)
      if (alive.length === 0) break
      await nextEventLoopTurn()
      if (request.cancelled?.()) throw new InferenceFailed({ model: "(generation)", reason: "cancelled" })
      const arrivals = request.admit ? await request.admit({ rows: alive.length, length: Math.max(...alive.map((l) => l.row.position)) }) : []
      candidates = decodeStep(engine, alive, arrivals, request, tally, seqOf)
    }
  } finally {
    for (const row of [...seqOf.keys()]) release(row)
  }
  return tally.sorted()
}

/** One llama_decode: the running rows' last tokens, then the prompts of `groups` (each into all its samples' sequences). */
const decodeStep = (engine: LlamaEngine, alive: readonly RowLogits[], groups: readonly PromptGroup[], request: GenerationRequest, tally: GroupTally, seqOf: Map<Row, number>): RowLogits[] => {
  const tokens: LlamaToken[] = alive.map(({ row }) => ({ token: row.out.tokens.at(-1)!, position: row.position++, seqs: [seqOf.get(row)!], output: true }))
  const opened = groups.map((group) => {
    const rows = tally.open(group, tally.groups, request)
    const seqs = engine.claim(rows.length)
    rows.forEach((row, i) => seqOf.set(row, seqs[i]!))
    group.ids.forEach((token, position) => tokens.push({ token, position, seqs, output: position === group.ids.length - 1 }))
    return rows
  })
  const logits = engine.decode(tokens)
  const { vocab } = engine.info
  const next: RowLogits[] = alive.map(({ row }, i) => ({ row, logits, offset: i * vocab }))
  opened.forEach((rows, g) => rows.forEach((row) => next.push({ row, logits, offset: (alive.length + g) * vocab })))
  return next
}
