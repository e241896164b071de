import { sha256 } from "../../core/hash.js"
import type { PromptLanguage } from "./language.js"
import { seededUniform, uniformInt } from "./random.js"

/**
 * Verifiable multi-step arithmetic at a requested difficulty. The strings are fixed: a Python
 * script pretrains a model on exactly these prompts and worked solutions.
 */

/** The smallest and largest operand. */
export const OPERAND_RANGE = { min: 1, max: 20 } as const

/** One generated problem, ready to be a prompt row with a reference and a worked solution. */
export interface ArithmeticProblem {
  readonly id: string
  readonly prompt: string
  readonly reference: string
  readonly solution: string
  readonly lang: PromptLanguage
  /** Number of operations (operands − 1). */
  readonly difficulty: number
  readonly source: "arithmetic"
}

/** One difficulty, a uniform range, or weights per difficulty (need not sum to 1). */
export type DifficultySpec = number | { readonly min: number; readonly max: number } | { readonly weights: Readonly<Record<number, number>> }

/** What `generateArithmetic` draws. */
export interface ArithmeticRequest {
  readonly seed: string | number
  readonly count: number
  readonly difficulty: DifficultySpec
  /** Languages, alternated problem by problem in this order. */
  readonly langs: readonly PromptLanguage[]
  /** Expression keys (`arithmeticKey`) never to emit, e.g. those of a held-out set. */
  readonly exclude?: ReadonlySet<string>
}

type Op = "+" | "-"
interface Expression {
  readonly operands: readonly number[]
  readonly ops: readonly Op[]
}

const render = (e: Expression): string => e.operands.map((n, i) => (i === 0 ? `${n}` : `${e.ops[i - 1]} ${n}`)).join(" ")

const steps = (e: Expression): { lines: string[]; value: number } => {
  let value = e.operands[0]!
  const lines = e.ops.map((op, i) => {
    const operand = e.operands[i + 1]!
    const next = op === "+" ? value + operand : value - operand
    const line = `${value} ${op} ${operand} = ${next}`
    value = next
    return line
  })
  return { lines, value }
}

const problemOf = (e: Expression, lang: PromptLanguage): ArithmeticProblem => {
  const expression = render(e)
  const { lines, value } = steps(e)
  const solution = lang === "zh" ? `${lines.join("，")}。答案是 ${value}。` : `${lines.join(", ")}. The answer is ${value}.`
  return {
    id: `arith-${sha256(`${lang}\0${expression}`).slice(0, 12)}`,
    prompt: lang === "zh" ? `计算 ${expression} 等于多少？` : `What is ${expression}?`,
    reference: `${value}`,
    solution,
    lang,
    difficulty: e.ops.length,
    source: "arithmetic"
  }
}

/**
 * The problem for one expression written as `arithmeticKey` gives it (`12 + 7 - 5`), in one
 * language. Use to rebuild a problem from its key, or to write a fixed evaluation set.
 */
export const arithmeticProblem = (expression: string, lang: PromptLanguage): ArithmeticProblem => {
  const key = arithmeticKey(expression)
  if (key === undefined) throw new RangeError(`arithmeticProblem: "${expression}" is not an expression of integers joined by + and -`)
  const tokens = key.split(" ")
  return problemOf({ operands: tokens.filter((_, i) => i % 2 === 0).map(Number), ops: tokens.filter((_, i) => i % 2 === 1) as Op[] }, lang)
}

const EXPRESSION = /\d+(?:\s*[+-]\s*\d+)+/u

/**
 * The expression key of a problem's prompt (or of any text holding one): its first chain of
 * integers joined by `+`/`-`, with full-width forms folded, numbers without leading zeros and
 * single spaces (`计算 １２＋7 − 5 等于多少？` → `12 + 7 - 5`). Language-independent, so a
 * Chinese and an English prompt of one expression share a key. Use to decontaminate training
 * problems against a held-out set; undefined when the text holds no expression.
 */
export const arithmeticKey = (text: string): string | undefined => {
  const match = EXPRESSION.exec(text.normalize("NFKC").replace(/[\u2212\u2012\u2013]/gu, "-"))
  if (!match) return undefined
  return match[0]
    .split(/\s*([+-])\s*/u)
    .map((token) => (token === "+" || token === "-" ? token : `${BigInt(token)}`))
    .join(" ")
}

const difficultyDraw = (spec: DifficultySpec): { choices: number[]; draw: (uniform: () => number) => number } => {
  const check = (d: number, field: string): number => {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`generateArithmetic: ${field} must be an integer ≥ 1, got ${d}`)
    return d
  }
  if (typeof spec === "number") return { choices: [check(spec, "difficulty")], draw: () => spec }
  if ("weights" in spec) {
    const entries = Object.entries(spec.weights)
      .map(([d, w]) => [check(Number(d), "a difficulty.weights key"), w] as const)
      .filter(([, w]) => {
        if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`generateArithmetic: difficulty weights must be finite and ≥ 0, got ${w}`)
        return w > 0
      })
      .sort((a, b) => a[0] - b[0])
    const total = entries.reduce((sum, [, w]) => sum + w, 0)
    if (total === 0) throw new RangeError("generateArithmetic: difficulty weights need at least one positive weight")
    return {
      choices: entries.map(([d]) => d),
      draw: (uniform) => {
        let at = uniform() * total
        for (const [d, w] of entries) if ((at -= w) < 0) return d
        return entries.at(-1)![0]
      }
    }
  }
  const [min, max] = [check(spec.min, "difficulty.min"), check(spec.max, "difficulty.max")]
  if (min > max) throw new RangeError(`generateArithmetic: difficulty min ${min} is above max ${max}`)
  return { choices: Array.from({ length: max - min + 1 }, (_, i) => min + i), draw: (uniform) => uniformInt(uniform, min, max) }
}

/** How many distinct expressions exist at a difficulty (operands^(d+1) × 2^d). */
export const expressionCount = (difficulty: number): number =>
  (OPERAND_RANGE.max - OPERAND_RANGE.min + 1) ** (difficulty + 1) * 2 ** difficulty

/**
 * Draws `count` problems, deterministic for a seed: a longer request with the same seed starts
 * with the problems of a shorter one. No expression repeats within a call (whatever its
 * language) and none in `exclude` is emitted. Throws a RangeError when the difficulties asked
 * for cannot hold that many distinct expressions.
 */
export const generateArithmetic = (request: ArithmeticRequest): ArithmeticProblem[] => {
  const { count, langs } = request
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`generateArithmetic: count must be an integer ≥ 0, got ${count}`)
  if (langs.length === 0) throw new RangeError("generateArithmetic: langs must name at least one language")
  const difficulty = difficultyDraw(request.difficulty)
  const capacity = difficulty.choices.reduce((sum, d) => sum + expressionCount(d), 0)
  if (count > capacity) throw new RangeError(`generateArithmetic: ${count} distinct problems asked for, difficulties ${difficulty.choices.join(", ")} hold only ${capacity}`)
  const uniform = seededUniform("arithmetic", request.seed)
  const exclude = request.exclude ?? new Set<string>()
  const seen = new Set<string>()
  const problems: ArithmeticProblem[] = []
  const maxDraws = 100 * count + 10_000
  for (let drawn = 0; problems.length < count; drawn++) {
    if (drawn === maxDraws) throw new RangeError(`generateArithmetic: found only ${problems.length} of ${count} new expressions in ${maxDraws} draws (too many excluded or already drawn)`)
    const d = difficulty.draw(uniform)
    const operands = Array.from({ length: d + 1 }, () => uniformInt(uniform, OPERAND_RANGE.min, OPERAND_RANGE.max))
    const ops = Array.from({ length: d }, (): Op => (uniform() < 0.5 ? "+" : "-"))
    const expression: Expression = { operands, ops }
    const key = render(expression)
    if (seen.has(key) || exclude.has(key)) continue
    seen.add(key)
    problems.push(problemOf(expression, langs[problems.length % langs.length]!))
  }
  return problems
}
