/**
 * Reading a list of prompts out of a model's free-form response, in the shapes models write
 * lists in both languages: `1.`, `1)`, `1、`, `（1）`, `一、`, `Task 1:`, `指令1：`, bullets, or
 * plain one item per line.
 */

const CN_NUMERAL = "[一二三四五六七八九十百]+"
const MARKER = new RegExp(
  [
    "^(?:\\*\\*|__)?",
    "(?:",
    "(?:task|instruction|prompt|question|任务|指令|问题|题目)\\s*\\d{1,3}\\s*[:：.．]",
    "|\\d{1,3}\\s*(?:[.．:：](?!\\d)|[、)）])",
    `|${CN_NUMERAL}\\s*[、.．]`,
    `|[（(]\\s*(?:\\d{1,3}|${CN_NUMERAL})\\s*[)）]`,
    "|[-*+]\\s",
    "|[•·●◦▪]",
    ")",
    "(?:\\*\\*|__)?\\s*"
  ].join(""),
  "iu"
)

const WRAPPERS: ReadonlyArray<readonly [string, string]> = [
  ["**", "**"], ["__", "__"], ['"', '"'], ["“", "”"], ["「", "」"], ["『", "』"], ["'", "'"], ["`", "`"]
]

/**
 * Removes one pair of marks wrapping the whole text (markdown bold, straight or curly quotes,
 * 「」/『』), repeatedly, and trims. Marks inside the text stay.
 */
export const unwrap = (text: string): string => {
  let out = text.trim()
  for (;;) {
    const pair = WRAPPERS.find(([open, close]) => out.length > open.length + close.length && out.startsWith(open) && out.endsWith(close))
    if (!pair) return out
    const inner = out.slice(pair[0].length, out.length - pair[1].length)
    if (inner.includes(pair[0]) || inner.includes(pair[1])) return out
    out = inner.trim()
  }
}

/** The text after a list marker at the start of a line, or undefined if the line has none. */
export const stripListMarker = (line: string): string | undefined => {
  const match = MARKER.exec(line.trim())
  return match ? line.trim().slice(match[0].length) : undefined
}

/**
 * The items of a list in a response, unwrapped and trimmed, in order. When some lines carry a
 * list marker, each marked line starts an item, unmarked lines directly below it continue it
 * (joined with a newline), and text before the first item or after a blank line (a preamble,
 * a closing remark) is left out. Without any marker, every non-empty line is an item, except
 * lines ending in a colon (`Here are five new tasks:` / `以下是新任务：`).
 */
export const parseListItems = (response: string): string[] => {
  const lines = response.replace(/\r\n?/gu, "\n").split("\n")
  const marked = lines.map(stripListMarker)
  if (marked.every((m) => m === undefined)) {
    return lines.map(unwrap).filter((line) => line !== "" && !/[:：]$/u.test(line))
  }
  const items: string[][] = []
  let open = false
  lines.forEach((line, i) => {
    const item = marked[i]
    if (item !== undefined) {
      items.push([item])
      open = true
    } else if (line.trim() === "") {
      open = false
    } else if (open) {
      items.at(-1)!.push(line.trim())
    }
  })
  return items.map((parts) => unwrap(parts.join("\n"))).filter((item) => item !== "")
}
