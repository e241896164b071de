import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Template } from "@huggingface/jinja"
import * as ort from "onnxruntime-node"
import { Tokenizer } from "tokenizers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { trainByteLevelBpe } from "./fixtures/bpe/trainer.js"
import { examplesModelsDir } from "./fixtures/buildExamples.js"
import {
  buildCjkRatioClassifier,
  buildClassifier,
  buildTinyChatModel,
  buildTinyRewardModel,
  buildTokenizer,
  CHATML_TEMPLATE,
  cjkTokenIds,
  corpusLines,
  exampleModelFiles,
  readCorpus,
  SPECIAL_TOKENS
} from "./fixtures/index.js"
import { hasNonFinite, int64, maxAbsDiff, openSession } from "./fixtures/onnxTestKit.js"

const ZH = "今天天气很好，我们一起去公园散步吧。小明有五个苹果，他给了小红两个。"
const EN = "The weather is nice today. Tom has 5 apples and gives 2 to Amy!"
const MIXED = "我喜欢 tea 和 coffee，Answer: 三十六元 (36 dollars)."
const UNUSUAL = "  tabs\tand\nnew lines\n\n é ü 😀 龘 ０１２ it's we'll"

let root: string
let rust: Tokenizer

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "winnow-fixtures-"))
  rust = Tokenizer.fromString(JSON.stringify(buildTokenizer().json))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

const ids = async (text: string) => (await rust.encode(text)).getIds()

describe("fixture tokenizer", () => {
  it("round-trips Chinese, English, mixed and unusual text exactly", async () => {
    for (const text of [ZH, EN, MIXED, UNUSUAL, ...corpusLines()]) {
      expect(await rust.decode(await ids(text), false)).toBe(text)
    }
  })

  it("has a vocabulary of 1,000–2,500 with every corpus Chinese character as one token", async () => {
    const tokenizer = buildTokenizer()
    expect(tokenizer.vocabSize).toBeGreaterThanOrEqual(1000)
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(2500)
    expect(rust.getVocabSize(true)).toBe(tokenizer.vocabSize)
    const han = [...new Set(Array.from(readCorpus()).filter((c) => /\p{Script=Han}/u.test(c)))]
    expect(han.length).toBeGreaterThan(300)
    for (const c of han) expect(await ids(c)).toHaveLength(1)
  })

  it("maps each special token to its own single id", async () => {
    const { specialIds } = buildTokenizer()
    for (const token of SPECIAL_TOKENS) {
      expect(await ids(token)).toEqual([specialIds[token]])
      expect(rust.tokenToId(token)).toBe(specialIds[token])
    }
    const chat = await ids("<|im_start|>user\n你好<|im_end|>\n")
    expect(chat[0]).toBe(specialIds["<|im_start|>"])
    expect(chat).toContain(specialIds["<|im_end|>"])
    expect(await rust.decode(chat, true)).toBe("user\n你好\n")
  })

  it("writes merges as 'a b' strings and encodes exactly like the Rust binding", async () => {
    const tokenizer = buildTokenizer()
    expect(tokenizer.json.model.merges.every((m) => m.split(" ").length === 2)).toBe(true)
    for (const text of [ZH, EN, MIXED, UNUSUAL, ...corpusLines()]) {
      expect(tokenizer.encoder.encode(text)).toEqual(await ids(text))
    }
  })

  it("trains the same merges every time", () => {
    const a = trainByteLevelBpe(readCorpus(), { vocabSize: 2000 })
    const b = trainByteLevelBpe(readCorpus(), { vocabSize: 2000 })
    expect(b).toEqual(a)
    expect(buildTokenizer().json.model.merges).toEqual(a.merges.map(([x, y]) => `${x} ${y}`))
  })
})

describe("chat template", () => {
  it("renders ChatML with a system prompt and a generation prompt", () => {
    const messages = [
      { role: "system", content: "你是一个有帮助的助手。" },
      { role: "user", content: "What is 3 + 5?" }
    ]
    const rendered = new Template(CHATML_TEMPLATE).render({
      messages,
      add_generation_prompt: true,
      eos_token: "<|im_end|>",
      pad_token: "<|endoftext|>"
    })
    expect(rendered).toBe(
      "<|im_start|>system\n你是一个有帮助的助手。<|im_end|>\n<|im_start|>user\nWhat is 3 + 5?<|im_end|>\n<|im_start|>assistant\n"
    )
    const withoutPrompt = new Template(CHATML_TEMPLATE).render({ messages: messages.slice(1), add_generation_prompt: false })
    expect(withoutPrompt).toBe("<|im_start|>user\nWhat is 3 + 5?<|im_end|>\n")
  })

  it("is the template in the tiny chat model's tokenizer_config.json", () => {
    const dir = join(root, "chat")
    const info = buildTinyChatModel(dir)
    const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"))
    expect(config.chat_template).toBe(CHATML_TEMPLATE)
    expect(config.eos_token).toBe("<|im_end|>")
    const generation = JSON.parse(readFileSync(join(dir, "generation_config.json"), "utf8"))
    expect(generation.eos_token_id).toEqual([info.eosTokenId, info.padTokenId])
  })
})

const classify = async (session: ort.InferenceSession, rows: number[][], masks: number[][]) => {
  const width = rows[0].length
  const out = await session.run({ input_ids: int64(rows.flat(), [rows.length, width]), attention_mask: int64(masks.flat(), [rows.length, width]) })
  const logits = out.logits as ort.Tensor
  return { data: logits.data as Float32Array, dims: logits.dims }
}

const padRows = (rows: number[][], padId: number, side: "left" | "right") => {
  const width = Math.max(...rows.map((r) => r.length))
  const pad = (r: number[], value: number, fill: number) =>
    side === "left" ? [...Array<number>(width - r.length).fill(fill), ...r.map(() => value)] : [...r.map(() => value), ...Array<number>(width - r.length).fill(fill)]
  return {
    ids: rows.map((r) => (side === "left" ? [...Array<number>(width - r.length).fill(padId), ...r] : [...r, ...Array<number>(width - r.length).fill(padId)])),
    masks: rows.map((r) => pad(r, 1, 0))
  }
}

describe("tiny classifiers", () => {
  it("output logits [batch, labels] unchanged by left or right padding", async () => {
    for (const [name, options] of [
      ["reward", {}],
      ["three", { numLabels: 3, pooling: "first" as const, seed: 9 }]
    ] as const) {
      const dir = join(root, name)
      const info = name === "reward" ? buildTinyRewardModel(dir) : buildClassifier(dir, options)
      const session = await openSession(join(dir, "onnx", "model.onnx"))
      const rows = [await ids(ZH), await ids(EN), await ids(MIXED)]
      for (const side of ["left", "right"] as const) {
        const { ids: batch, masks } = padRows(rows, info.padTokenId, side)
        const together = await classify(session, batch, masks)
        expect(together.dims).toEqual([3, info.labels.length])
        expect(hasNonFinite(together.data)).toBe(false)
        for (let r = 0; r < rows.length; r++) {
          const alone = await classify(session, [rows[r]], [rows[r].map(() => 1)])
          const labels = info.labels.length
          expect(maxAbsDiff(together.data.subarray(r * labels, (r + 1) * labels), alone.data)).toBeLessThan(1e-5)
        }
      }
    }
  })

  it("cjk-ratio classifier scores the fraction of CJK tokens", async () => {
    const dir = join(root, "cjk")
    const info = buildCjkRatioClassifier(dir)
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))
    expect(config.id2label).toEqual({ "0": "cjk_ratio" })
    const session = await openSession(join(dir, "onnx", "model.onnx"))
    const cjk = cjkTokenIds(info.tokenizer)
    const texts = [ZH, EN, MIXED, UNUSUAL, "你好", "hello"]
    const rows = await Promise.all(texts.map(ids))
    const expected = rows.map((r) => r.filter((id) => cjk.has(id)).length / r.length)
    expect(expected[0]).toBeGreaterThan(0.5)
    expect(expected[1]).toBe(0)
    expect(expected[2]).toBeGreaterThan(0.1)
    expect(expected[2]).toBeLessThan(0.9)
    const { ids: batch, masks } = padRows(rows, info.padTokenId, "left")
    const scores = await classify(session, batch, masks)
    expect(maxAbsDiff(scores.data, expected)).toBeLessThan(1e-4)
  })
})

const listFiles = (dir: string, prefix = ""): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort()

describe("committed example models", () => {
  it("equal a fresh build byte for byte and stay under 2 MB each", () => {
    for (const [name, files] of Object.entries(exampleModelFiles())) {
      const dir = join(examplesModelsDir(), name)
      expect(existsSync(dir), `${dir} exists (run npm run fixtures)`).toBe(true)
      expect(listFiles(dir)).toEqual(Object.keys(files).sort())
      let total = 0
      for (const [path, content] of Object.entries(files)) {
        const onDisk = readFileSync(join(dir, path))
        total += onDisk.length
        expect(onDisk.equals(Buffer.from(content)), `${name}/${path} matches a fresh build`).toBe(true)
      }
      expect(total).toBeLessThan(2 * 1024 * 1024)
    }
  })
})
