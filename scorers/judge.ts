import { Effect } from "effect"
import { JudgeScorerSpec } from "../campaign/spec.js"
import { variantOf } from "../models/modelDir.js"
import { commonConfig, type ScoreInput, type ScorerFamily } from "./contract.js"

/** Bump when the judging rule or the default rubrics change; it goes into lineage. */
export const JUDGE_VERSION = "1"

/** The default pointwise rubric (bilingual); `{low}`/`{high}` become the first and last rating. */
export const DEFAULT_POINTWISE_RUBRIC =
  "Rate the response to the question below from {low} (poor) to {high} (excellent): is it helpful, correct, and in the question's language?\n" +
  "请按 {low}（很差）到 {high}（很好）评价下面的回答：是否有帮助、是否正确、是否使用提问的语言。\n\n" +
  "[Question / 问题]\n{prompt}\n\n[Response / 回答]\n{response}\n\n" +
  "Reply with the rating only. 只回复评分。"

/** The default pairwise rubric (bilingual); `{a}`/`{b}` become the two verdicts. */
export const DEFAULT_PAIRWISE_RUBRIC =
  "Which response answers the question better: helpful, correct, and in the question's language?\n" +
  "哪个回答更好：更有帮助、更正确、并使用提问的语言？\n\n" +
  "[Question / 问题]\n{prompt}\n\n[Response {a} / 回答 {a}]\n{response_a}\n\n[Response {b} / 回答 {b}]\n{response_b}\n\n" +
  "Reply with {a} or {b} only. 只回复 {a} 或 {b}。"

const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(prompt|response|response_a|response_b|low|high|a|b)\}/g, (whole, key: string) => values[key] ?? whole)

/** The pointwise judge prompt for one sample. */
export const pointwisePrompt = (spec: Pick<JudgeScorerSpec, "rubric" | "ratings">, input: ScoreInput): string =>
  fill(spec.rubric ?? DEFAULT_POINTWISE_RUBRIC, { prompt: input.prompt, response: input.response, low: spec.ratings[0]!, high: spec.ratings.at(-1)! })

/** The pairwise judge prompt showing `first` as the first response and `second` as the second. */
export const pairwisePrompt = (spec: Pick<JudgeScorerSpec, "rubric" | "verdicts">, first: ScoreInput, second: ScoreInput): string =>
  fill(spec.rubric ?? DEFAULT_PAIRWISE_RUBRIC, { prompt: first.prompt, response_a: first.response, response_b: second.response, a: spec.verdicts[0], b: spec.verdicts[1] })

/** Which sample a judged pair prefers: the first shown, the second shown, or neither. */
export type Verdict = "first" | "second" | "tie"

/** A verdict from the probabilities of the two verdict tokens. */
export const verdictOf = (probs: readonly number[]): Verdict =>
  probs[0]! > probs[1]! ? "first" : probs[0]! < probs[1]! ? "second" : "tie"

/**
 * Combines the two orders of one comparison of samples x and y: `xFirst` judged with x shown
 * first, `yFirst` with y shown first. The winner is the sample both orders prefer; a verdict that
 * flips with the order (position bias) is a tie.
 */
export const consistentWinner = (xFirst: Verdict, yFirst: Verdict): "x" | "y" | "tie" => {
  const winner1 = xFirst === "first" ? "x" : xFirst === "second" ? "y" : "tie"
  const winner2 = yFirst === "first" ? "y" : yFirst === "second" ? "x" : "tie"
  return winner1 === winner2 ? winner1 : "tie"
}

/** The comparisons of a pairwise batch (each judged in both orders) and the prompt groups of sample indices. */
export interface PairwisePlan {
  readonly comparisons: ReadonlyArray<{ readonly x: number; readonly y: number }>
  readonly groups: readonly number[][]
}

/** Every unordered pair of samples within each prompt group. */
export const planPairs = (batch: readonly ScoreInput[]): PairwisePlan => {
  const byGroup = new Map<number | string, number[]>()
  batch.forEach((s, i) => {
    const key = s.group ?? `solo-${i}`
    byGroup.set(key, [...(byGroup.get(key) ?? []), i])
  })
  const groups = [...byGroup.values()]
  const comparisons = groups.flatMap((members) => members.flatMap((x, a) => members.slice(a + 1).map((y) => ({ x, y }))))
  return { comparisons, groups }
}

/**
 * Win rates from both-order verdicts: each sample scores (wins + ½ ties) / (group size − 1);
 * a prompt with a single sample gives 0.5.
 */
export const winRates = (size: number, plan: PairwisePlan, verdicts: ReadonlyArray<readonly [Verdict, Verdict]>): number[] => {
  const points = new Array<number>(size).fill(0)
  plan.comparisons.forEach(({ x, y }, c) => {
    const winner = consistentWinner(verdicts[c]![0], verdicts[c]![1])
    if (winner === "x") points[x]! += 1
    else if (winner === "y") points[y]! += 1
    else {
      points[x]! += 0.5
      points[y]! += 0.5
    }
  })
  const scores = new Array<number>(size).fill(0.5)
  for (const members of plan.groups) if (members.length > 1) for (const i of members) scores[i] = points[i]! / (members.length - 1)
  return scores
}

/**
 * LLM-as-judge on a local causal LM with a rubric prompt. Pointwise: the expected rating from the
 * probabilities of the rating tokens (e.g. "1"…"5" or "一"…"五") after the rubric, one forward
 * pass per sample. Pairwise: every pair of a prompt's samples is judged in both orders (so
 * n(n−1) passes per prompt); a verdict that flips with the order counts as a tie; the score is
 * the sample's win rate.
 */
export const judgeFamily: ScorerFamily<JudgeScorerSpec> = {
  type: "judge",
  version: JUDGE_VERSION,
  schema: JudgeScorerSpec,
  build: (spec, { pool, field }) => {
    const values = spec.rating_values ?? spec.ratings.map((_, i) => i + 1)
    const ask = (conversations: string[], options: readonly string[], optionsField: string) =>
      pool.judge({
        model: spec.model,
        ...variantOf(spec),
        field,
        optionsField,
        conversations: conversations.map((content) => [{ role: "user" as const, content }]),
        options,
        answerPrefix: spec.answer_prefix ?? "",
        maxLength: spec.max_length,
        batchSize: spec.batch_size
      })
    return {
      name: spec.name,
      type: "judge",
      version: JUDGE_VERSION,
      weight: spec.weight,
      config: {
        model: spec.model,
        ...variantOf(spec),
        mode: spec.mode,
        rubric: spec.rubric ?? (spec.mode === "pointwise" ? DEFAULT_POINTWISE_RUBRIC : DEFAULT_PAIRWISE_RUBRIC),
        answer_prefix: spec.answer_prefix ?? "",
        ...(spec.mode === "pointwise" ? { ratings: spec.ratings, rating_values: values } : { verdicts: spec.verdicts }),
        max_length: spec.max_length,
        ...commonConfig(spec)
      },
      score: (batch) => {
        if (spec.mode === "pointwise") {
          return ask(batch.map((s) => pointwisePrompt(spec, s)), spec.ratings, `${field}.ratings`).pipe(Effect.map((out) => ({
            values: out.probs.map((p) => p.reduce((sum, q, i) => sum + q * values[i]!, 0)),
            truncated: out.truncated
          })))
        }
        const plan = planPairs(batch)
        const conversations = plan.comparisons.flatMap(({ x, y }) => [pairwisePrompt(spec, batch[x]!, batch[y]!), pairwisePrompt(spec, batch[y]!, batch[x]!)])
        return ask(conversations, spec.verdicts, `${field}.verdicts`).pipe(Effect.map((out) => {
          const verdicts = plan.comparisons.map((_, c) => [verdictOf(out.probs[2 * c]!), verdictOf(out.probs[2 * c + 1]!)] as const)
          const truncated = new Array<boolean>(batch.length).fill(false)
          plan.comparisons.forEach(({ x, y }, c) => {
            if (out.truncated[2 * c] || out.truncated[2 * c + 1]) truncated[x] = truncated[y] = true
          })
          return { values: winRates(batch.length, plan, verdicts), truncated }
        }))
      }
    }
  }
}
