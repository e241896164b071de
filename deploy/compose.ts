import { Document, isScalar, isSeq, visit } from "yaml"
import { DEFAULTS } from "../core/defaults.js"
import { CLUSTER, clusterServices, composePlacement, type Service, type Step } from "./topology.js"

/** One service of docker-compose.yml as winnow writes it. */
export interface ComposeService {
  image: string
  build?: { context: string; target: string; args?: Record<string, string> }
  entrypoint: string[]
  command: string[]
  environment: Record<string, string | null>
  depends_on?: Record<string, { condition: string }>
  volumes?: string[]
  ports?: string[]
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number }
  stop_signal?: string
  restart: string
}

/** docker-compose.yml as an object. */
export interface ComposeFile {
  name: string
  services: Record<string, ComposeService>
  volumes: Record<string, null>
}

const quote = (arg: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)
const line = (program: string, args: readonly string[]) => [program, ...args].map(quote).join(" ")

/** A job's steps as one `sh -ec` script, each `unless` turned into `unless >/dev/null 2>&1 || step`. */
const script = (steps: readonly Step[]): string =>
  steps.map((s) => (s.unless ? `${line(s.unless.program, s.unless.args)} >/dev/null 2>&1 || ${line(s.program, s.args)}` : line(s.program, s.args))).join("\n")

const IMAGES = {
  postgres: { image: `postgres:${CLUSTER.database.postgresMajor}` },
  temporal: {
    image: `winnow-temporal:${DEFAULTS.temporalServerVersion}`,
    build: { context: ".", target: "temporal", args: { TEMPORAL_SERVER_VERSION: DEFAULTS.temporalServerVersion, TEMPORAL_CLI_VERSION: DEFAULTS.temporalCliVersion } }
  },
  winnow: { image: "winnow:latest", build: { context: ".", target: "winnow" } }
} as const

const composeService = (service: Service, all: readonly Service[]): ComposeService => {
  const step = service.steps[0]!
  const daemon = service.run === "daemon"
  const entrypoint = !daemon ? ["sh", "-ec"] : service.image === "winnow" ? ["node", "bin/winnow.js"] : service.image === "postgres" ? ["docker-entrypoint.sh"] : [step.program]
  const command = !daemon ? [script(service.steps)] : service.image === "winnow" || service.image === "temporal" ? [...step.args] : [step.program, ...step.args]
  const depends = Object.fromEntries(service.after.map((name) => {
    const dep = all.find((s) => s.name === name)!
    return [name, { condition: dep.run === "once" ? "service_completed_successfully" : dep.health ? "service_healthy" : "service_started" }]
  }))
  const volumes = service.image === "postgres" ? ["postgres-data:/var/lib/postgresql/data"]
    : service.name === "temporal" ? [`./deploy/temporal:${composePlacement.temporalRoot}/config:ro`]
    : service.image === "winnow" ? [`winnow-home:${composePlacement.home}`, "./models:/models:ro"] : []
  return {
    ...IMAGES[service.image],
    entrypoint,
    command,
    environment: { ...service.env },
    ...(service.after.length > 0 ? { depends_on: depends } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(service.name === "temporal" ? { ports: [`${composePlacement.frontend.port}:${composePlacement.temporalPorts.frontend}`] } : {}),
    ...(service.health ? { healthcheck: { test: ["CMD", service.health.program, ...service.health.args], interval: "5s", timeout: "5s", retries: 30 } } : {}),
    ...(service.stopSignal !== "SIGTERM" ? { stop_signal: service.stopSignal } : {}),
    restart: daemon ? "unless-stopped" : "on-failure"
  }
}

/** The compose rendering of the default cluster (CLUSTER): what docker-compose.yml must hold. */
export const composeFile = (): ComposeFile => {
  const services = clusterServices(CLUSTER.workers, composePlacement)
  return {
    name: "winnow",
    services: Object.fromEntries(services.map((s) => [s.name, composeService(s, services)])),
    volumes: { "postgres-data": null, "winnow-home": null }
  }
}

const HEADER = `# A winnow cluster for Docker: PostgreSQL, the Temporal server on it (built from the Go module
# proxy, Dockerfile target "temporal", config deploy/temporal/cluster.yaml), its setup jobs, and winnow
# workers on separate task queues sharing one store. Written by \`scripts/cluster compose\` from
# deploy/topology.ts, the description \`scripts/cluster up\` runs natively: edit that, not this file
# (tests/cluster.test.ts fails when they differ). Clients set TEMPORAL_ADDRESS=localhost:7233,
# WINNOW_TASK_QUEUE=${CLUSTER.queues.workflows}, WINNOW_GENERATION_QUEUE=${CLUSTER.queues.generation}, WINNOW_SCORING_QUEUE=${CLUSTER.queues.scoring},
# WINNOW_STORE_QUEUE=${CLUSTER.queues.store}. The store variables (${CLUSTER.storeEnv[0]}, AWS_*) pass through from the shell.
`

/** docker-compose.yml's text: a header and the compose rendering. */
export const composeText = (): string => {
  const doc = new Document(composeFile(), { aliasDuplicateObjects: false })
  visit(doc, {
    Seq: (_, node) => {
      if (isSeq(node) && node.items.every((item) => isScalar(item) && !String(item.value).includes("\n"))) node.flow = true
    }
  })
  return `${HEADER}${doc.toString({ lineWidth: 0, flowCollectionPadding: false, nullStr: "" })}`
}
