import { homedir } from "node:os"
import { join, resolve } from "node:path"

/**
 * The winnow home directory: `WINNOW_HOME` or `~/.winnow`. Holds the dataset store and
 * the dev server's database. Read once at the composition root and passed down.
 */
export const winnowHome = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.WINNOW_HOME && env.WINNOW_HOME.length > 0 ? env.WINNOW_HOME : join(homedir(), ".winnow"))

/** Root of the dataset store inside a winnow home. */
export const storeRoot = (home: string): string => join(home, "store")

/** Cache directory for tools winnow builds (the Temporal CLI), outside any repository. */
export const toolCache = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.WINNOW_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "winnow"))
