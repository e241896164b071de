import { defineConfig } from "vitest/config"

/**
 * Runs the pure prompt-stage and curriculum unit tests without the Temporal server the root
 * config starts: `npx vitest run --config campaign/promptStage/vitest.config.ts`.
 */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["campaign/promptStage/**/*.test.ts", "campaign/curriculum/**/*.test.ts"]
  }
})
