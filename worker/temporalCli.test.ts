import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pino } from "pino"
import { describe, expect, it } from "vitest"
import { tempDir } from "../tests/support/harness.js"
import { cachedCliPath, ensureTemporalCli } from "./temporalCli.js"

const silent = pino({ level: "silent" })

describe("finding the Temporal CLI", () => {
  it("fails with a remedy when there is no CLI and no Go toolchain", async () => {
    const env = { PATH: tempDir("empty-path"), WINNOW_CACHE: tempDir("cache") }
    await expect(ensureTemporalCli(silent, env)).rejects.toMatchObject({
      _tag: "TemporalUnavailable",
      message: expect.stringContaining("Install Go 1.25 or newer")
    })
  })

  it("rejects a TEMPORAL_CLI_PATH that is not executable", async () => {
    const env = { PATH: "", TEMPORAL_CLI_PATH: join(tempDir("x"), "missing") }
    await expect(ensureTemporalCli(silent, env)).rejects.toMatchObject({ _tag: "TemporalUnavailable", message: expect.stringContaining("TEMPORAL_CLI_PATH") })
  })

  it("prefers TEMPORAL_CLI_PATH, then PATH, then the version-keyed cache", async () => {
    const cache = tempDir("cache")
    const cached = cachedCliPath({ WINNOW_CACHE: cache })
    expect(cached).toBe(join(cache, "temporal-cli", "v1.5.1", "temporal"))
    mkdirSync(join(cached, ".."), { recursive: true })
    writeFileSync(cached, "#!/bin/sh\n")
    chmodSync(cached, 0o755)
    const bin = tempDir("bin")
    const onPath = join(bin, "temporal")
    writeFileSync(onPath, "#!/bin/sh\n")
    chmodSync(onPath, 0o755)
    expect(await ensureTemporalCli(silent, { PATH: "", WINNOW_CACHE: cache })).toBe(cached)
    expect(await ensureTemporalCli(silent, { PATH: bin, WINNOW_CACHE: cache })).toBe(onPath)
    expect(await ensureTemporalCli(silent, { PATH: bin, WINNOW_CACHE: cache, TEMPORAL_CLI_PATH: cached })).toBe(cached)
  })
})
