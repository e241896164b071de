import { parentPort } from "node:worker_threads"
import { errorToPlain } from "../core/errors.js"
import { CausalLmScorer } from "./causalLmScorer.js"
import { ClassifierSession } from "./classifierSession.js"
import { LocalGenerator, type StreamedToken } from "./localGenerator.js"
import { modelKey, type ThreadCancel, type ThreadRequest, type ThreadResponse } from "./threadProtocol.js"

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
      return generator.generate(request.prompts, request.params, { cancelled: () => running.get(request.id) === true, ...(request.stream ? { onTokens } : {}) })
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

/** Requests being handled, each with whether it was asked to stop (a generation checks before each decode step). */
const running = new Map<number, boolean>()

parentPort!.on("message", (message: ThreadRequest | ThreadCancel) => {
  if ("cancel" in message) return void (running.has(message.cancel) && running.set(message.cancel, true))
  const request = message
  running.set(request.id, false)
  handle(request).finally(() => running.delete(request.id)).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies ThreadResponse),
    (error) => parentPort!.postMessage({ id: request.id, ok: false, error: errorToPlain(error) } satisfies ThreadResponse)
  )
})
