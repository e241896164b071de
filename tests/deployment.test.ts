import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"
import { DEFAULTS } from "../core/defaults.js"
import { type ComposeFile, composeFile, composeText } from "../deploy/compose.js"
import { CLUSTER, clusterServices, composePlacement, parseWorkers } from "../deploy/topology.js"
import { repoRoot } from "./support/harness.js"

/**
 * docker-compose.yml is for users' clusters (Docker does not run here), so it is checked by
 * parsing: it must be exactly the rendering of deploy/topology.ts, the description that
 * `scripts/cluster up` runs natively (tests/cluster.test.ts checks the running processes against it).
 */
describe("docker-compose.yml", () => {
  const text = readFileSync(join(repoRoot, "docker-compose.yml"), "utf8")
  const compose = parse(text) as ComposeFile
  const { services } = compose

  it("is the compose rendering of deploy/topology.ts (regenerate with scripts/cluster compose > docker-compose.yml)", () => {
    expect(compose).toEqual(composeFile())
    expect(text).toBe(composeText())
  })

  it("describes Temporal on PostgreSQL with its setup jobs and a worker per kind of work, on their queues", () => {
    expect(Object.keys(services)).toEqual(["postgresql", "temporal-schema", "temporal", "temporal-namespace", "worker-main", "worker-generation", "worker-scoring"])
    expect(services.temporal!.environment).toMatchObject({ TEMPORAL_DB_HOST: "postgresql", TEMPORAL_DB_PORT: "5432", TEMPORAL_BIND_IP: "0.0.0.0", TEMPORAL_FRONTEND_PORT: "7233" })
    expect(services.temporal!.volumes).toEqual(["./deploy/temporal:/etc/temporal/config:ro"])
    expect(services["temporal-schema"]!.command[0]).toContain("update-schema --schema-name postgresql/v12/visibility")
    for (const name of Object.values(SEARCH_ATTRIBUTES)) expect(services["temporal-namespace"]!.command[0]).toContain(`--name ${name} --type Keyword`)
    expect(services["worker-main"]!.command).toEqual(["worker", "--task-queue", CLUSTER.queues.workflows, "--queues", CLUSTER.queues.store])
    expect(services["worker-generation"]!.command).toEqual(["worker", "--task-queue", CLUSTER.queues.generation])
    expect(services["worker-scoring"]!.command).toEqual(["worker", "--task-queue", CLUSTER.queues.scoring])
    const home = services["worker-main"]!.volumes!.find((v) => v.endsWith(`:${composePlacement.home}`))!
    expect(compose.volumes).toHaveProperty(home.split(":")[0]!)
    for (const worker of ["worker-main", "worker-generation", "worker-scoring"]) {
      expect(services[worker]!.environment).toMatchObject({ TEMPORAL_ADDRESS: "temporal:7233", WINNOW_HOME: "/var/lib/winnow", WINNOW_STORE: null, AWS_ENDPOINT_URL: null })
    }
  })

  it("only depends on services it declares: healthy daemons, completed jobs", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dep}`).toHaveProperty(dep)
        const expected = services[dep]!.restart === "on-failure" ? "service_completed_successfully" : "service_healthy"
        expect(cond.condition, `${name} → ${dep}`).toBe(expected)
      }
    }
  })

  it("builds its images from a Dockerfile at the versions winnow pins", () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8")
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/winnow.js"]')
    expect(dockerfile).toMatch(/FROM node:20\S* AS winnow/)
    expect(dockerfile).toContain(`ARG TEMPORAL_SERVER_VERSION=${DEFAULTS.temporalServerVersion}`)
    expect(dockerfile).toContain(`ARG TEMPORAL_CLI_VERSION=${DEFAULTS.temporalCliVersion}`)
    expect(dockerfile).toContain("go install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}")
    expect(dockerfile).toMatch(/FROM \S+ AS temporal\n/)
    expect(services.temporal!.build).toMatchObject({ target: "temporal", args: { TEMPORAL_SERVER_VERSION: DEFAULTS.temporalServerVersion } })
    expect(services["worker-main"]!.build).toMatchObject({ target: "winnow" })
  })
})

describe("the cluster topology", () => {
  it("reads --workers, and names the flag, the value and what is expected when it is wrong", () => {
    expect(parseWorkers("a=workflows+store+generation+scoring")).toEqual([{ name: "a", serves: ["workflows", "store", "generation", "scoring"] }])
    expect(parseWorkers("main=workflows+store,gen-a=generation,gen-b=generation,s=scoring").map((w) => w.name)).toEqual(["main", "gen-a", "gen-b", "s"])
    const cases: Array<[string, string]> = [
      ["main=workflows+store,gen=generation", "nothing serves scoring"],
      ["main=workflows+store+generation+gpu", '"gpu" is not a duty'],
      ["main", '"main" is not name=duties'],
      ["Main=workflows+store+generation+scoring", '"Main=workflows+store+generation+scoring" is not name=duties'],
      ["a=workflows+store+generation+scoring,a=scoring", "the name a is used twice"],
      ["a=workflows+workflows+store+generation+scoring", "a lists a duty twice"],
      ["", "no workers"]
    ]
    for (const [text, why] of cases) {
      expect(() => parseWorkers(text), text).toThrow(/--workers/)
      expect(() => parseWorkers(text), text).toThrow(why)
    }
  })

  it("makes a worker's first duty's queue its --task-queue and the rest its --queues", () => {
    const workers = parseWorkers("gen=generation,main=store+workflows,score=scoring")
    const services = clusterServices(workers, composePlacement)
    expect(services.find((s) => s.name === "worker-main")!.steps[0]!.args).toEqual(["worker", "--task-queue", "winnow-store", "--queues", "winnow"])
  })
})
