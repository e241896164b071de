/** Numeric fields of a config.json, reading nested `text_config` when the top level lacks them. */
export const configNumbers = (config: Record<string, unknown>): Record<string, number | undefined> => {
  const nested = (config.text_config ?? {}) as Record<string, unknown>
  return new Proxy({} as Record<string, number | undefined>, {
    get: (_, key: string) => {
      const value = config[key] ?? nested[key]
      return typeof value === "number" ? value : undefined
    }
  })
}

/** The KV-cache geometry a config.json states (Llama/Qwen/Mistral/Phi or GPT-2 names); what it does not state is undefined. */
export interface ConfigKvShape {
  readonly layers: number | undefined
  readonly kvHeads: number | undefined
  readonly headDim: number | undefined
}

/**
 * Reads layers, KV heads and head size from a config.json. Use where the graph leaves them
 * symbolic (`inspectLayout`) or before any session exists (memory estimates).
 */
export const configKvShape = (config: Record<string, unknown>): ConfigKvShape => {
  const cfg = configNumbers(config)
  const heads = cfg.num_attention_heads ?? cfg.n_head
  return {
    layers: cfg.num_hidden_layers ?? cfg.n_layer,
    kvHeads: cfg.num_key_value_heads ?? heads,
    headDim: cfg.head_dim ?? (heads ? (cfg.hidden_size ?? cfg.n_embd ?? 0) / heads : undefined)
  }
}
