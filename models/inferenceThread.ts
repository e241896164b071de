import { parentPort } from "node:worker_threads"
import { errorToPlain } from "../core/errors.js"
import { CausalLmScorer } from "./causalLmScorer.js"
import { ClassifierSession } from "./classifierSession.js"
import { LocalGenerator, type NumberedPrompt, type StreamedToken } from "./localGenerator.js"
import { type JoinableAnswer, modelKey, type ThreadCancel, type ThreadJoin, type ThreadRequest, type ThreadResponse } from "./threadProtocol.js"

const generators = new Map<string, Promise<LocalGenerator>>()
const classifiers = new Map<string, Promise<ClassifierSession>>()
const causalScorers = new Map<string, Promise<CausalLmScorer>>()

const cached = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
  let entry = cache.get(key)
  if (!entry) {
    entry = load()
    entry.catch(() => cache.delete(key))
    cache.set(key, entry)
  }
  return entry
}

const handle = async (request: ThreadRequest): Promise<unknown> => {
  const settings = { intraOpThreads: request.intraOpThreads }
  switch (request.op) {
    case "generate": {
      const generator = await cached(generators, modelKey(request), () => LocalGenerator.load(request.model, settings, request.variant))
      const onTokens = (progress: readonly StreamedToken[]) => parentPort!.postMessage({ id: request.id, progress } satisfies ThreadResponse)
      const hooks = { cancelled: () => running.get(request.id) === true, ...(request.stream ? { onTokens } : {}) }
      if (!request.joinable) return generator.generate(request.prompts, request.params, hooks)
      const queue: NumberedPrompt[] = []
      joinQueues.set(request.id, queue)
      try {
        await generator.generateJoinable(request.prompts.map((prompt, index) => ({ index, prompt })), request.params, {
          ...hooks,
          admit: (fits) => {
            let take = 0
            while (take < queue.length && fits(queue[take]!.prompt)) take++
            return queue.splice(0, take)
          },
          onPromptDone: (prompt, samples) => parentPort!.postMessage({ id: request.id, done: { prompt, samples } } satisfies ThreadResponse)
        })
      } finally {
        joinQueues.delete(request.id)
      }
      return { returned: queue.map((p) => p.index) } satisfies JoinableAnswer
    }
    case "classify": {
      const classifier = await cached(classifiers, modelKey(request), () => ClassifierSession.load(request.model, request.field, settings, request.variant))
      return classifier.classify(request)
    }
    case "lmStats": {
      const lm = await cached(causalScorers, modelKey(request), () => CausalLmScorer.load(request.model, request.field, settings, request.variant))
      return lm.responseStats(request.items, { maxLength: request.maxLength, batchSize: request.batchSize })
    }
    case "judge": {
      const lm = await cached(causalScorers, modelKey(request), () => CausalLmScorer.load(request.model, request.field, settings, request.variant))
      return lm.optionProbs(request.conversations, request.options, { answerPrefix: request.answerPrefix, maxLength: request.maxLength, batchSize: request.batchSize, field: request.optionsField })
    }
  }
}

/** The prompts waiting to join each running joinable generation. */
const joinQueues = new Map<number, NumberedPrompt[]>()

/** Requests being handled, each with whether it was asked to stop (a generation checks before each decode step). */
const running = new Map<number, boolean>()

parentPort!.on("message", (message: ThreadRequest | ThreadCancel | ThreadJoin) => {
  if ("cancel" in message) return void (running.has(message.cancel) && running.set(message.cancel, true))
  if ("join" in message) {
    const queue = joinQueues.get(message.join)
    if (queue) return void queue.push(...message.prompts)
    return void parentPort!.postMessage({ id: message.join, returned: message.prompts.map((p) => p.index) } satisfies ThreadResponse)
  }
  const request = message
  running.set(request.id, false)
  handle(request).finally(() => running.delete(request.id)).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies ThreadResponse),
    (error) => parentPort!.postMessage({ id: request.id, ok: false, error: errorToPlain(error) } satisfies ThreadResponse)
  )
})
