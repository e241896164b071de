/**
 * A process check for left-to-right `+`/`−` arithmetic (the problems `arithmetic` in the prompt
 * stage writes, in Chinese or English): the response's worked steps must be exactly the chain the
 * prompt's expression calls for — each `a + b = c` right, each step starting from the previous
 * result — not only the final number. A weak model often reaches the right answer through wrong
 * steps; training on those teaches the wrong steps.
 */

const EXPRESSION = /(\d+(?:\s*[+\-−]\s*\d+)+)/u
const STEP = /(-?\d+)\s*([+\-−])\s*(\d+)\s*=\s*(-?\d+)/gu

interface Step {
  readonly left: number
  readonly op: "+" | "-"
  readonly right: number
  readonly result: number
}

const opOf = (symbol: string): "+" | "-" => (symbol === "+" ? "+" : "-")

/** The steps a prompt's expression calls for, left to right; undefined when the prompt holds no `a ± b …` expression. */
export const expectedChain = (prompt: string): Step[] | undefined => {
  const expression = EXPRESSION.exec(prompt.normalize("NFKC"))?.[1]
  if (expression === undefined) return undefined
  const tokens = expression.match(/\d+|[+\-−]/gu)!
  let value = Number(tokens[0])
  const steps: Step[] = []
  for (let i = 1; i + 1 < tokens.length; i += 2) {
    const op = opOf(tokens[i]!)
    const right = Number(tokens[i + 1])
    const result = op === "+" ? value + right : value - right
    steps.push({ left: value, op, right, result })
    value = result
  }
  return steps
}

/** The `a ± b = c` steps a response writes, in order. */
export const writtenSteps = (response: string): Step[] =>
  [...response.normalize("NFKC").matchAll(STEP)].map((m) => ({ left: Number(m[1]), op: opOf(m[2]!), right: Number(m[3]), result: Number(m[4]) }))

/** True when the response writes exactly the prompt's chain of steps, each right. */
export const chainIsRight = (prompt: string, response: string): boolean => {
  const expected = expectedChain(prompt)
  if (expected === undefined) return false
  const written = writtenSteps(response)
  return written.length === expected.length && written.every((s, i) => {
    const e = expected[i]!
    return s.left === e.left && s.op === e.op && s.right === e.right && s.result === e.result
  })
}
