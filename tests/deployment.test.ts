import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"
import { repoRoot } from "./support/harness.js"

type Service = {
  image?: string
  build?: string
  command?: string[]
  depends_on?: Record<string, { condition: string }>
  environment?: Record<string, string>
  volumes?: string[]
  ports?: string[]
}

/** docker-compose.yml is for users' clusters (Docker does not run here), so it is checked by parsing. */
describe("docker-compose.yml", () => {
  const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8")) as { services: Record<string, Service>; volumes: Record<string, unknown> }
  const { services } = compose

  it("describes Temporal on PostgreSQL, its Web UI and winnow workers", () => {
    expect(Object.keys(services).sort()).toEqual(["postgresql", "temporal", "temporal-ui", "winnow-worker"])
    expect(services.temporal!.environment).toMatchObject({ DB: "postgres12", POSTGRES_SEEDS: "postgresql" })
    expect(services.temporal!.image).toMatch(/^temporalio\/auto-setup:/)
    expect(services["temporal-ui"]!.environment!.TEMPORAL_ADDRESS).toBe("temporal:7233")
    expect(services["temporal-ui"]!.image).toMatch(/^temporalio\/ui:/)
  })

  it("points workers at the cluster with a shared store volume", () => {
    const worker = services["winnow-worker"]!
    expect(worker.command?.[0]).toBe("worker")
    expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: "temporal:7233", WINNOW_HOME: "/var/lib/winnow" })
    const home = worker.volumes!.find((v) => v.endsWith(":/var/lib/winnow"))!
    expect(compose.volumes).toHaveProperty(home.split(":")[0]!)
    expect(worker.build).toBe(".")
  })

  it("only depends on services it declares, with health conditions", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dep}`).toHaveProperty(dep)
        expect(cond.condition).toBe("service_healthy")
      }
    }
  })

  it("has a Dockerfile whose entrypoint is the winnow CLI", () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8")
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/winnow.js"]')
    expect(dockerfile).toMatch(/FROM node:20/)
    expect(Object.values(SEARCH_ATTRIBUTES)).toHaveLength(3)
  })
})
