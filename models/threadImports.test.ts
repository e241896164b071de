import { existsSync, readFileSync } from "node:fs"
import { dirname, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/** Every package a module graph imports for its values (type-only imports erased), with who imports it. */
const packageImports = (entry: string): Map<string, string[]> => {
  const seen = new Set<string>()
  const packages = new Map<string, string[]>()
  const walk = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
      if (m[1]) continue
      const spec = m[2]!
      if (spec.startsWith(".")) {
        const source = resolve(dirname(file), spec.replace(/\.js$/, ".ts"))
        if (existsSync(source)) walk(source)
      } else packages.set(spec, [...(packages.get(spec) ?? []), relative(root, file)])
    }
  }
  walk(resolve(root, entry))
  return packages
}

describe("what an inference thread loads", () => {
  it("takes effect by module, never the whole package (the barrel adds about 12 MiB to every thread and to the generator's peak)", () => {
    for (const entry of ["models/inferenceThread.ts", "models/localGenerator.ts"]) {
      const packages = packageImports(entry)
      expect(packages.get("effect"), `${entry} loads "effect" through ${packages.get("effect")?.join(", ")}`).toBeUndefined()
      expect([...packages.keys()]).toContain("effect/Schema")
    }
  })
})
