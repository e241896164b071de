import { readFile } from "node:fs/promises"
import { resolve } from "node:path"
import { inputInvalid, type InputInvalid } from "../../core/errors.js"
import { sha256 } from "../../core/hash.js"
import type { SortedKeys } from "./bandIndex.js"
import { keyTable, sortedBands, type BandKeyer } from "./nearDup.js"

/** A loaded evaluation set: where it came from and the LSH band keys of its prompts. */
export interface EvalSet {
  readonly file: string
  readonly fileHash: string
  readonly prompts: number
  readonly bands: ReadonlyArray<SortedKeys>
}

const promptOfLine = (line: string, jsonl: boolean): string | undefined => {
  if (!jsonl) return line.trim() === "" ? undefined : line
  if (line.trim() === "") return undefined
  const value = JSON.parse(line) as Record<string, unknown>
  for (const key of ["prompt", "question", "text", "instruction", "input"]) {
    if (typeof value[key] === "string") return value[key] as string
  }
  if (Array.isArray(value.messages)) {
    return (value.messages as Array<{ role?: unknown; content?: unknown }>)
      .filter((m) => m.role === "user" && typeof m.content === "string")
      .map((m) => m.content as string)
      .join("\n")
  }
  throw new Error("has none of prompt, question, text, instruction, input, messages")
}

/**
 * Reads a file of evaluation prompts (`.jsonl`: one object per line with `prompt`, `question`,
 * `text`, `instruction`, `input` or `messages`; anything else: one prompt per non-empty line)
 * and computes their band keys. Bad files are `InputInvalid` naming the file and line.
 */
export const loadEvalSet = async (path: string, keyer: BandKeyer, source: string): Promise<EvalSet | InputInvalid> => {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (error) {
    return inputInvalid(source, "dedup.decontaminate", path, `a readable file of evaluation prompts (${(error as Error).message})`)
  }
  const jsonl = /\.jsonl?$/i.test(file)
  const prompts: Array<string> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    try {
      const prompt = promptOfLine(lines[i], jsonl)
      if (prompt !== undefined) prompts.push(prompt)
    } catch (error) {
      return inputInvalid(source, `dedup.decontaminate (${file} line ${i + 1})`, lines[i].slice(0, 80),
        `a JSON object with a prompt field (${(error as Error).message})`)
    }
  }
  const { bands } = keyer.params
  const table = keyTable(prompts.length, bands)
  prompts.forEach((prompt, slot) => keyer.textKeys(prompt, table.hi, table.lo, prompts.length, slot))
  return { file, fileHash: sha256(text), prompts: prompts.length, bands: sortedBands(table, bands) }
}

const contains = (keys: SortedKeys, hi: number, lo: number): boolean => {
  let low = 0
  let high = keys.hi.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    const h = keys.hi[mid]
    const l = keys.lo[mid]
    if (h === hi && l === lo) return true
    if (h < hi || (h === hi && l < lo)) low = mid + 1
    else high = mid - 1
  }
  return false
}

/**
 * Answers "is this prompt a near-duplicate of an evaluation prompt?", caching answers per
 * prompt text (prompts repeat across samples and rounds; the cache is bounded).
 */
export class ContaminationCheck {
  private readonly cache = new Map<string, boolean>()
  private readonly hi: Uint32Array
  private readonly lo: Uint32Array

  constructor(private readonly keyer: BandKeyer, private readonly evalSet: EvalSet) {
    this.hi = new Uint32Array(keyer.params.bands)
    this.lo = new Uint32Array(keyer.params.bands)
  }

  /** True when `prompt` shares an LSH band with any evaluation prompt. */
  check(prompt: string): boolean {
    const cached = this.cache.get(prompt)
    if (cached !== undefined) return cached
    this.keyer.textKeys(prompt, this.hi, this.lo, 1, 0)
    let hit = false
    for (let band = 0; band < this.hi.length && !hit; band++) hit = contains(this.evalSet.bands[band], this.hi[band], this.lo[band])
    if (this.cache.size >= 100_000) this.cache.clear()
    this.cache.set(prompt, hit)
    return hit
  }
}
