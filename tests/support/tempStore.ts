import { afterEach, beforeEach } from "vitest"
import type { DatasetStoreApi } from "../../datasets/store.js"
import { tempStore } from "./storeFixtures.js"

/**
 * A fresh store in a temp dir for every test of the file, removed after it. `set` receives it
 * before each test (assign it to the file's `root` and `store`). Test-only helper.
 */
export const useTempStore = (set: (fresh: { readonly root: string; readonly store: DatasetStoreApi }) => void): void => {
  let cleanup: (() => Promise<void>) | undefined
  beforeEach(async () => {
    const fresh = await tempStore()
    cleanup = fresh.cleanup
    set(fresh)
  })
  afterEach(() => cleanup?.())
}
