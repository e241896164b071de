import { Effect } from "effect"
import type { WritePromptsInput, WritePromptsResult } from "../campaign/loopContracts.js"
import { type CurriculumState, emptyCurriculum } from "../campaign/curriculum/passRates.js"
import { difficultyForRound } from "../campaign/curriculum/policy.js"
import { promptDatasetOf, type PromptOperatorSpec } from "../campaign/loopSpec.js"
import { arithmeticKey, generateArithmetic } from "../campaign/promptStage/arithmetic.js"
import { screenCandidates } from "../campaign/promptStage/candidates.js"
import { buildEvalIndex } from "../campaign/promptStage/decontamination.js"
import { magpieTemplate } from "../campaign/promptStage/magpie.js"
import { PROMPT_OPERATOR_DEFAULTS } from "../campaign/promptStage/operators.js"
import { candidatesOf, operatorRequests, type StageContext } from "../campaign/promptStage/stageRequests.js"
import { lastUserTurn, planShards, type PromptRecord, promptSetOf } from "../campaign/prompts.js"
import { attempt, type WinnowError } from "../core/errors.js"
import { sha256 } from "../core/hash.js"
import { promptSeeds } from "../core/seeds.js"
import { readPromptSet, readState, writePromptPages } from "../datasets/workArea.js"
import { readOwnedModelDir } from "../models/modelDir.js"
import { TextTokenizer } from "../models/tokenizer.js"
import type { ActivityDeps } from "./deps.js"
import { sampleFromGenerator } from "./sampling.js"

/** What one operator wrote this round: candidates, kept prompts, and why the others were dropped. */
type OperatorTally = WritePromptsResult["operators"][string]

/** New arithmetic problems at the round's difficulty, none repeating an expression seen before or held out. */
const arithmeticPrompts = (operator: Extract<PromptOperatorSpec, { type: "arithmetic" }>, index: number, input: WritePromptsInput, seen: ReadonlySet<string>, difficulty: number | undefined): PromptRecord[] =>
  generateArithmetic({
    seed: `${input.spec.generator.seed}/${input.round}/${index}`,
    count: operator.count ?? PROMPT_OPERATOR_DEFAULTS.arithmetic.count,
    difficulty: difficulty ?? operator.difficulty ?? PROMPT_OPERATOR_DEFAULTS.arithmetic.difficulty,
    langs: operator.langs ?? PROMPT_OPERATOR_DEFAULTS.arithmetic.langs,
    exclude: seen
  }).map((p) => ({ id: p.id, messages: [{ role: "user", content: p.prompt }], reference: p.reference }))

/**
 * The prompt stage of a round: every operator of `prompt_stage` writes new prompts — arithmetic
 * problems at the curriculum's difficulty, and Self-Instruct, Evol-Instruct and Magpie requests
 * answered by the round's generator — which are screened (length, dedup against every earlier
 * prompt, decontamination against the eval prompts), added to the campaign's prompt set and
 * committed as a new version of its prompt dataset. Seeded, so a retry writes the same set.
 */
export const writePrompts = (deps: ActivityDeps) => (input: WritePromptsInput): Effect.Effect<WritePromptsResult, WinnowError> =>
  Effect.gen(function* () {
    const stage = input.spec.prompt_stage!
    const existing = yield* readPromptSet<PromptRecord>(deps.work, input.prompts)
    const held = input.evalPrompts ? yield* readPromptSet<PromptRecord>(deps.work, input.evalPrompts) : []
    const texts = existing.map((p) => lastUserTurn(p.messages))
    const evalIndex = held.length > 0 ? buildEvalIndex(held.map((p) => lastUserTurn(p.messages))) : undefined
    const seen = new Set([...existing, ...held].flatMap((p) => arithmeticKey(lastUserTurn(p.messages)) ?? []))
    const raise = input.spec.curriculum?.raise_difficulty
    const state = input.curriculum === undefined ? emptyCurriculum() : yield* readState<CurriculumState>(deps.work.stateFile(input.campaignId, "curriculum", input.curriculum))
    const difficulty = raise ? difficultyForRound(state, raise, input.round) : undefined
    const generator = { ...input.spec.generator, model: input.generator.path }
    const magpie = generator.backend.type === "local" && stage.operators.some((o) => o.type === "magpie")
      ? yield* attempt(() => magpieTemplate((messages, open) => TextTokenizer.load(readOwnedModelDir(input.generator.path, "generator")).renderChat(messages, open)))
      : undefined
    const context: StageContext = { seed: input.spec.generator.seed, round: input.round, existing: texts, ...(magpie ? { magpie } : {}) }
    const requests = stage.operators.flatMap((operator, index) => operatorRequests(operator, index, context))
    const answers = requests.length === 0 ? [] : yield* sampleFromGenerator(deps, generator, requests.map((r, i) => ({
      messages: r.messages,
      ...(r.text !== undefined ? { text: r.text } : {}),
      seeds: promptSeeds(input.spec.generator.seed, input.round, `prompt-stage/${r.operator}/${i}`, 1)
    })), stage.max_new_tokens)
    const added: PromptRecord[] = []
    const tallies: Record<string, OperatorTally> = {}
    let earlier = [...texts]
    stage.operators.forEach((operator, index) => {
      const name = `${index}:${operator.type}`
      if (operator.type === "arithmetic") {
        const problems = arithmeticPrompts(operator, index, input, seen, difficulty)
        added.push(...problems)
        tallies[name] = { candidates: problems.length, kept: problems.length, ...(difficulty !== undefined ? { difficulty } : {}) }
        return
      }
      const candidates = requests.flatMap((request, i) =>
        request.operator === index ? candidatesOf(request, { text: answers[i]?.text ?? "", truncated: answers[i]?.finish === "length" }, magpie) : [])
      const screened = screenCandidates(candidates, { earlier, ...(evalIndex ? { evalIndex } : {}) })
      earlier = [...earlier, ...screened.kept]
      added.push(...screened.kept.map((text): PromptRecord => ({ id: `gen-${sha256(`${operator.type}\0${text}`).slice(0, 16)}`, messages: [{ role: "user", content: text }] })))
      const asked = requests.filter((r) => r.operator === index).length
      tallies[name] = { requests: asked, candidates: candidates.length, kept: screened.kept.length, dropped: Object.fromEntries(Object.entries(screened.dropped).filter(([, n]) => n > 0)) }
    })
    const rows = [...existing, ...added]
    const pageSize = input.spec.sharding.prompts_per_shard
    const prompts = promptSetOf(rows, pageSize)
    yield* writePromptPages(deps.work, prompts, rows)
    const version = yield* deps.prompts.append({
      name: promptDatasetOf(input.spec),
      prompts,
      added: added.length,
      lineage: { campaign_id: input.campaignId, round: input.round, generator: input.generator.model_hash, operators: tallies }
    })
    deps.logger.info({ campaignId: input.campaignId, round: input.round, added: added.length, prompts: rows.length, operators: tallies }, "wrote new prompts")
    const tokens = { prompt: answers.reduce((a, s) => a + s.promptTokens, 0), completion: answers.reduce((a, s) => a + s.tokenCount, 0) }
    return { prompts, shards: planShards(rows.length, pageSize), version: version.sequence, added: added.length, generated: answers.length, tokens, operators: tallies }
  })
