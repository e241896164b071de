/**
 * Every default winnow applies, in one place. Change a default here and the spec schema,
 * the JSON Schema for editors and the README reference all follow.
 */
export const DEFAULTS = {
  generator: {
    n: 4,
    temperature: 0.8,
    top_p: 0.95,
    top_k: 50,
    min_p: 0,
    repetition_penalty: 1,
    max_new_tokens: 128,
    seed: 0,
    backend: { type: "local" as const }
  },
  /** `generator.backend` with `type: openai`: an OpenAI-compatible chat-completions server. */
  openaiBackend: {
    concurrency: 8,
    timeout_ms: 600_000,
    max_retries: 5,
    logprobs: true,
    extended_sampling: true
  },
  /** `winnow serve`: the local generator behind an OpenAI-compatible HTTP API. */
  serve: {
    host: "127.0.0.1",
    port: 8000,
    max_tokens: 256
  },
  scorer: {
    weight: 1,
    normalize: "raw" as const,
    max_length: 512,
    batch_size: 16,
    truncation: "right" as const
  },
  heuristic: {
    metric: "quality" as const,
    target_chars: 64,
    /** n of distinct_n */
    n: 2,
    /** n of repetition: repeated 4-grams (characters for CJK, words elsewhere) */
    repetition_n: 4
  },
  lmStats: {
    metric: "nll" as const,
    max_length: 2048,
    batch_size: 4
  },
  verifier: {
    match: "numeric" as const,
    tolerance: 1e-6,
    missing_reference: "fail" as const
  },
  judge: {
    mode: "pointwise" as const,
    ratings: ["1", "2", "3", "4", "5"],
    verdicts: ["A", "B"],
    max_length: 2048,
    batch_size: 8
  },
  selection: {
    policy: "best_of_n" as const,
    /** Records per prompt for best_of_n and preference_pairs; threshold keeps every passing sample. */
    k: 1,
    rejected: "worst" as const,
    min_margin: 0
  },
  rounds: 1,
  /** `output.keep_work`: keep a round's work files (every sample with its scores) after its commit. */
  keepWork: false,
  /** `output.dedup`: near-duplicate removal at commit (exact ids always collapse). */
  dedup: {
    near: true,
    threshold: 0.8,
    ngram: 3,
    num_perm: 128,
    scope: "response" as const
  },
  /** `improve`: the step between rounds that trains the next round's generator. */
  improve: {
    trainer: "bundled" as const,
    method: "sft" as const,
    from: "base" as const,
    data: "round" as const,
    /** How long one training run may take, and how long a silent trainer worker is waited for. */
    timeout_hours: 24,
    heartbeat_seconds: 60
  },
  /** `prompt_stage`: new prompts before each round. */
  promptStage: {
    max_new_tokens: 256
  },
  /** `eval`: held-out prompts scored every round. */
  eval: {
    n: 4
  },
  sharding: {
    prompts_per_shard: 8,
    max_concurrent_shards: 4,
    /** Prompts a generate activity samples between checkpoints; a retried attempt resumes after the last one. */
    checkpoint_prompts: 16
  },
  taskQueue: "winnow",
  namespace: "default",
  /** The inference pool of a worker or `winnow serve`. */
  pool: {
    /** Share of the machine's memory that loaded model copies may take (`WINNOW_MODEL_MEMORY_GIB` overrides). */
    modelMemoryShare: 0.5,
    /**
     * Resident bytes of a loaded model per byte of its ONNX files: ONNX Runtime keeps pre-packed
     * MatMul weights (measured 1.47× for inline weights, 1.09× for external data; BENCHMARKS.md).
     */
    loadedWeightsFactor: 1.5,
    /**
     * Resident bytes a generator adds while decoding per byte of its largest batch's KV cache: the
     * past and present caches, the copy the binding returns, and attention intermediates that
     * repeat grouped KV heads. An estimate: the RSS probe's 48 MiB cache added 347 MiB (~7×), part
     * of it fixed, so the ratio falls as batches grow.
     */
    decodingKvFactor: 4
  },
  devServer: {
    port: 7233,
    uiPort: 8233
  },
  temporalCliVersion: "v1.5.1",
  /** SeaweedFS, the S3-compatible server tests and `scripts/s3-server` run (built from the Go module proxy). */
  seaweedfsVersion: "v0.0.0-20261109003541-7506e5f91cd6",
  /**
   * The Temporal server (and its `temporal-sql-tool`) that `scripts/cluster` builds for a
   * PostgreSQL deployment: the version the CLI above embeds in `start-dev`, so both speak alike.
   */
  temporalServerVersion: "v1.29.1",
  /** Prompts per round that `winnow report`'s sample browser embeds (the page says how many it left out). */
  reportPromptsPerRound: 200,
  /** `review`: the human review gate between a round's selection and its commit. */
  review: {
    /** Samples the discriminator did not keep, added to each round's review sample (0: kept records only). */
    include_rejected: 0,
    /** How long a round waits for reviewers before `on_deadline` applies (24 hours). */
    deadline_seconds: 86_400,
    on_deadline: "commit" as const,
    /** Share of the sample that must be decided before the round commits. */
    required_share: 1,
    /** How long a claimed record stays with its reviewer before it returns to the pool. */
    lease_seconds: 600
  },
  /** `winnow review`: the local review page. */
  reviewServer: {
    host: "127.0.0.1",
    port: 8765,
    /** How long the page waits for the campaign to answer a claim or a decision. */
    answer_ms: 15_000
  }
} as const

/**
 * Prefix of a generator variant that names a GGUF file (`gguf:q4_k_m` → `gguf/model-q4_k_m.gguf`
 * or `gguf/q4_k_m.gguf`), run by llama.cpp. Read by the spec (`campaign/`) and model loading (`models/`).
 */
export const GGUF_VARIANT_PREFIX = "gguf:"

/** Limits that protect the cluster and the machine; the spec is rejected beyond them. */
export const LIMITS = {
  maxSamplesPerPrompt: 256,
  maxNewTokens: 32768,
  maxRounds: 1000,
  maxPromptsPerShard: 10000,
  maxConcurrentShards: 256,
  maxHttpConcurrency: 1024,
  /** Records one round's review may sample (kept plus rejected): their ids travel in the workflow's history. */
  maxReviewSample: 2000,
  /** Characters of one edited response. */
  maxReviewEditChars: 32_768,
  /** Characters of every edit of one round together: the edits travel to the commit in one activity input. */
  maxReviewEditCharsPerRound: 262_144
} as const
