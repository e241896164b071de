/** Where a shard's prompts are: a stored prompt set, and the slice of it a shard handles. */

/** A contiguous slice of the prompt set handled by one child workflow. */
export interface ShardPlan {
  readonly index: number
  readonly start: number
  readonly end: number
}

/**
 * A prompt set in the store: content hash, size, and the page size its files are cut into (one
 * page per planned shard; 0 for the single file of campaigns prepared before pages).
 */
export interface PromptSet {
  readonly ref: string
  readonly count: number
  readonly pageSize: number
  /** The largest prompt's UTF-8 bytes (sets stored before budgets have none). */
  readonly maxInputBytes?: number
}
