import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"
import { DEFAULTS } from "../core/defaults.js"
import { inputInvalid } from "../core/errors.js"

/** What a cluster worker serves: the campaigns' workflows, or one kind of activity (`task_queues`). */
export type Duty = "workflows" | "generation" | "scoring" | "store"

/** Every duty, in the order a worker's queues are listed. */
export const DUTIES: readonly Duty[] = ["workflows", "generation", "scoring", "store"]

/** One `winnow worker` process of the cluster: its name and the duties whose queues it polls. */
export interface WorkerSpec {
  readonly name: string
  readonly serves: readonly Duty[]
}

/**
 * The one description of a winnow cluster: PostgreSQL, the Temporal server on it, the setup jobs
 * (schemas, namespace, search attributes) and `winnow worker` processes on different task queues.
 * `scripts/cluster` runs it natively; docker-compose.yml is its rendering for Docker
 * (`scripts/cluster compose`), and tests/cluster.test.ts fails when the two drift.
 */
export const CLUSTER = {
  namespace: DEFAULTS.namespace,
  retention: "72h",
  queues: { workflows: DEFAULTS.taskQueue, generation: "winnow-generation", scoring: "winnow-scoring", store: "winnow-store" } satisfies Record<Duty, string>,
  /** The campaign's own queue with the store work, and a worker each for generation and scoring. */
  workers: [
    { name: "main", serves: ["workflows", "store"] },
    { name: "generation", serves: ["generation"] },
    { name: "scoring", serves: ["scoring"] }
  ] satisfies WorkerSpec[] as readonly WorkerSpec[],
  database: { user: "temporal", password: "temporal", postgresMajor: 15, settings: ["max_connections=200"] },
  historyShards: 4,
  /** The server config's `--env`: deploy/temporal/<configName>.yaml. */
  configName: "cluster",
  /** Passed from the environment of `scripts/cluster up` (or of `docker compose up`) to every worker when set: where the dataset store lives. */
  storeEnv: ["WINNOW_STORE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"]
} as const

/** The ports of the Temporal server's four services (gRPC and membership each). */
export interface TemporalPorts {
  readonly frontend: number
  readonly frontendMembership: number
  readonly history: number
  readonly historyMembership: number
  readonly matching: number
  readonly matchingMembership: number
  readonly worker: number
  readonly workerMembership: number
}

/** Where a rendering of the cluster puts things: hosts, ports and paths that differ between native and Docker. */
export interface Placement {
  readonly target: "native" | "compose"
  readonly database: { readonly host: string; readonly port: number }
  /** Where clients and workers reach the frontend. */
  readonly frontend: { readonly host: string; readonly port: number }
  readonly temporalPorts: TemporalPorts
  readonly bindIp: string
  /** The server's `--root`: its config is `<root>/config/<configName>.yaml`. */
  readonly temporalRoot: string
  /** The workers' shared WINNOW_HOME. */
  readonly home: string
  /** Arguments that place PostgreSQL's data and listener (native); the Docker image places its own. */
  readonly postgresArgs: readonly string[]
}

/** The Docker placement: service names as hosts, Temporal's usual ports, the image's paths. */
export const composePlacement: Placement = {
  target: "compose",
  database: { host: "postgresql", port: 5432 },
  frontend: { host: "temporal", port: 7233 },
  temporalPorts: { frontend: 7233, frontendMembership: 6933, history: 7234, historyMembership: 6934, matching: 7235, matchingMembership: 6935, worker: 7239, workerMembership: 6939 },
  bindIp: "0.0.0.0",
  temporalRoot: "/etc/temporal",
  home: "/var/lib/winnow",
  postgresArgs: []
}

/** A program a service runs: resolved to a path natively, found on the image's PATH under Docker. */
export type Program = "postgres" | "pg_isready" | "temporal-server" | "temporal-sql-tool" | "temporal" | "winnow"

/** One command: a program and its arguments; `unless` skips it when that command succeeds. */
export interface Step {
  readonly program: Program
  readonly args: readonly string[]
  readonly unless?: { readonly program: Program; readonly args: readonly string[] }
}

/** One service of the cluster: a long-running process (`daemon`) or a job that runs its steps to the end (`once`). */
export interface Service {
  readonly name: string
  /** Which image runs it under Docker. */
  readonly image: "postgres" | "temporal" | "winnow"
  readonly run: "daemon" | "once"
  /** A daemon has exactly one step. */
  readonly steps: readonly Step[]
  /** Its environment; `null` passes the variable through from the caller's environment when set. */
  readonly env: Readonly<Record<string, string | null>>
  /** Services that must be healthy (daemons) or done (jobs) first. */
  readonly after: readonly string[]
  /** A command that succeeds once the daemon serves. */
  readonly health?: Step
  readonly stopSignal: "SIGTERM" | "SIGINT"
}

/** The queue names a worker polls: its first duty's queue is its `--task-queue`, the rest its `--queues`. */
export const workerQueues = (worker: WorkerSpec): string[] => worker.serves.map((duty) => CLUSTER.queues[duty])

const address = (at: { host: string; port: number }): string => `${at.host}:${at.port}`

const sqlJob = (database: string, schema: string): Step[] => [
  { program: "temporal-sql-tool", args: ["--database", database, "create-database"] },
  { program: "temporal-sql-tool", args: ["--database", database, "setup-schema", "-v", "0.0"] },
  { program: "temporal-sql-tool", args: ["--database", database, "update-schema", "--schema-name", `postgresql/v12/${schema}`] }
]

const temporalEnv = (at: Placement): Record<string, string> => ({
  TEMPORAL_DB_HOST: at.database.host,
  TEMPORAL_DB_PORT: String(at.database.port),
  TEMPORAL_DB_USER: CLUSTER.database.user,
  TEMPORAL_DB_PASSWORD: CLUSTER.database.password,
  TEMPORAL_HISTORY_SHARDS: String(CLUSTER.historyShards),
  TEMPORAL_BIND_IP: at.bindIp,
  TEMPORAL_FRONTEND_PORT: String(at.temporalPorts.frontend),
  TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(at.temporalPorts.frontendMembership),
  TEMPORAL_HISTORY_PORT: String(at.temporalPorts.history),
  TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(at.temporalPorts.historyMembership),
  TEMPORAL_MATCHING_PORT: String(at.temporalPorts.matching),
  TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(at.temporalPorts.matchingMembership),
  TEMPORAL_WORKER_PORT: String(at.temporalPorts.worker),
  TEMPORAL_WORKER_MEMBERSHIP_PORT: String(at.temporalPorts.workerMembership)
})

/** The services of a cluster with `workers`, placed by `at`, in an order that starts each after what it needs. */
export const clusterServices = (workers: readonly WorkerSpec[], at: Placement): Service[] => {
  const db = CLUSTER.database
  const frontend = address(at.frontend)
  const settings = db.settings.flatMap((s) => ["-c", s])
  return [
    {
      name: "postgresql", image: "postgres", run: "daemon", stopSignal: "SIGINT", after: [],
      steps: [{ program: "postgres", args: [...at.postgresArgs, ...settings] }],
      env: { POSTGRES_USER: db.user, POSTGRES_PASSWORD: db.password },
      health: { program: "pg_isready", args: ["-h", at.database.host, "-p", String(at.database.port), "-U", db.user] }
    },
    {
      name: "temporal-schema", image: "temporal", run: "once", stopSignal: "SIGTERM", after: ["postgresql"],
      steps: [...sqlJob("temporal", "temporal"), ...sqlJob("temporal_visibility", "visibility")],
      env: { SQL_PLUGIN: "postgres12", SQL_HOST: at.database.host, SQL_PORT: String(at.database.port), SQL_USER: db.user, SQL_PASSWORD: db.password }
    },
    {
      name: "temporal", image: "temporal", run: "daemon", stopSignal: "SIGTERM", after: ["temporal-schema"],
      steps: [{ program: "temporal-server", args: ["--root", at.temporalRoot, "--config", "config", "--env", CLUSTER.configName, "--allow-no-auth", "start"] }],
      env: temporalEnv(at),
      health: { program: "temporal", args: ["operator", "cluster", "health", "--address", `127.0.0.1:${at.temporalPorts.frontend}`] }
    },
    {
      name: "temporal-namespace", image: "temporal", run: "once", stopSignal: "SIGTERM", after: ["temporal"],
      steps: [
        {
          program: "temporal", args: ["operator", "namespace", "create", "--namespace", CLUSTER.namespace, "--retention", CLUSTER.retention],
          unless: { program: "temporal", args: ["operator", "namespace", "describe", "--namespace", CLUSTER.namespace] }
        },
        {
          program: "temporal",
          args: ["operator", "search-attribute", "create", "--namespace", CLUSTER.namespace, ...Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ["--name", name, "--type", "Keyword"])]
        }
      ],
      env: { TEMPORAL_ADDRESS: frontend }
    },
    ...workers.map((worker): Service => {
      const [first, ...rest] = workerQueues(worker)
      return {
        name: `worker-${worker.name}`, image: "winnow", run: "daemon", stopSignal: "SIGTERM", after: ["temporal-namespace"],
        steps: [{ program: "winnow", args: ["worker", "--task-queue", first!, ...(rest.length > 0 ? ["--queues", rest.join(",")] : [])] }],
        env: {
          TEMPORAL_ADDRESS: frontend,
          TEMPORAL_NAMESPACE: CLUSTER.namespace,
          WINNOW_HOME: at.home,
          WINNOW_LOG_FORMAT: "json",
          ...Object.fromEntries(CLUSTER.storeEnv.map((name) => [name, null]))
        }
      }
    })
  ]
}

/** The environment a client (`winnow campaign start`, `dataset pull`) needs to use the cluster placed by `at`. */
export const clientEnv = (at: Placement): Record<string, string> => ({
  TEMPORAL_ADDRESS: address(at.frontend),
  TEMPORAL_NAMESPACE: CLUSTER.namespace,
  WINNOW_TASK_QUEUE: CLUSTER.queues.workflows,
  WINNOW_GENERATION_QUEUE: CLUSTER.queues.generation,
  WINNOW_SCORING_QUEUE: CLUSTER.queues.scoring,
  WINNOW_STORE_QUEUE: CLUSTER.queues.store,
  WINNOW_HOME: at.home
})

const WORKERS_EXPECTED = "workers as name=duty+duty,… (names: lowercase letters, digits, -; duties: workflows, generation, scoring, store), every duty served"

/**
 * Parses `--workers`: `main=workflows+store,generation=generation,scoring=scoring` (the default).
 * Each duty must be served by some worker, or campaigns would wait forever. Throws InputInvalid
 * naming `--workers`, the value and what is expected.
 */
export const parseWorkers = (text: string): WorkerSpec[] => {
  const bad = (why: string) => inputInvalid("scripts/cluster", "--workers", text, `${WORKERS_EXPECTED}; ${why}`)
  const workers = text.split(",").map((part) => part.trim()).filter(Boolean).map((part): WorkerSpec => {
    const [name, duties, extra] = part.split("=")
    if (!name || duties === undefined || extra !== undefined || !/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw bad(`${JSON.stringify(part)} is not name=duties`)
    const serves = duties.split("+").map((d) => d.trim())
    const unknown = serves.find((d) => !(DUTIES as readonly string[]).includes(d))
    if (unknown !== undefined) throw bad(`${JSON.stringify(unknown)} is not a duty`)
    if (new Set(serves).size !== serves.length) throw bad(`${name} lists a duty twice`)
    return { name, serves: serves as Duty[] }
  })
  if (workers.length === 0) throw bad("no workers")
  const names = workers.map((w) => w.name)
  const twice = names.find((n, i) => names.indexOf(n) !== i)
  if (twice !== undefined) throw bad(`the name ${twice} is used twice`)
  const unserved = DUTIES.filter((d) => !workers.some((w) => w.serves.includes(d)))
  if (unserved.length > 0) throw bad(`nothing serves ${unserved.join(", ")}`)
  return workers
}

/** `--workers` text of a worker list (what `parseWorkers` reads back). */
export const formatWorkers = (workers: readonly WorkerSpec[]): string => workers.map((w) => `${w.name}=${w.serves.join("+")}`).join(",")
