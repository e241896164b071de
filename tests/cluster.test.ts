import { chmodSync, readFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { Client, Connection } from "@temporalio/client"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ClusterStatus } from "../deploy/cluster.js"
import { composeFile } from "../deploy/compose.js"
import { readState, nativePlacement } from "../deploy/state.js"
import { CLUSTER, clusterServices, composePlacement, parseWorkers } from "../deploy/topology.js"
import { closedAttempt, untilRunning } from "./support/faults.js"
import { type CliRun, lastJson, pulledRecords, repoRoot, runCli, runProcess, tempDir, until, writeDemoSpec } from "./support/harness.js"
import { freshBucket, s3StoreEnv } from "./support/s3Server.js"

/**
 * The native multi-process deployment, brought up by `scripts/cluster` itself: Debian's
 * PostgreSQL (installed with apt-get when missing), the Temporal server built from the Go module
 * proxy on it, three `winnow worker` processes on separate task queues, the dataset store in a
 * bucket of the test run's S3 server (SeaweedFS). A campaign runs across
 * them; the generation worker is SIGKILLed while it generates, `scripts/cluster up` starts a
 * replacement (and only that), and the campaign ends with exactly the records of an undisturbed
 * run. The running processes must be what deploy/topology.ts says, as docker-compose.yml must.
 */

const cluster = (args: string[], store: Record<string, string> = {}, timeoutMs = 1_500_000): Promise<CliRun> => {
  const { WINNOW_HOME: _home, WINNOW_CLUSTER_DIR: _dir, ...env } = process.env
  return runProcess("bash", [join(repoRoot, "scripts/cluster"), ...args], { ...env, ...store, WINNOW_LOG_LEVEL: "info" }, timeoutMs)
}

const argvOf = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1)
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]))

/** One round of two shards of five prompts, 64 samples each: generation lasts seconds, long enough to kill a worker in it. */
const campaignSpec = (dir: string, dataset: string): string => writeDemoSpec(dir, dataset, (s) => {
  s.rounds = 1
  s.generator.n = 64
  s.sharding = { prompts_per_shard: 5, max_concurrent_shards: 1 }
  s.output.dataset = dataset
})

describe("scripts/cluster: PostgreSQL, the Temporal server and workers per queue, natively", () => {
  const base = tempDir("cluster")
  // PostgreSQL runs as the postgres account when the tests run as root: it must reach the state directory.
  chmodSync(base, 0o755)
  const dir = join(base, "state")
  let status: ClusterStatus
  let env: Record<string, string>
  let store: Record<string, string>
  let client: Client | undefined
  const pidOf = (s: ClusterStatus, name: string) => s.services.find((x) => x.name === name)!.pid

  beforeAll(async () => {
    store = s3StoreEnv(await freshBucket("cluster"))
    const up = await cluster(["up", "--dir", dir, "--json"], store)
    expect(up.code, up.stderr).toBe(0)
    status = lastJson(up.stdout)
    env = { ...(status.clientEnv as Record<string, string>), ...store }
    client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS! }) })
  }, 1_800_000)
  afterAll(async () => {
    await client?.connection.close()
    const down = await cluster(["down", "--dir", dir, "--purge"])
    expect(down.code, down.stderr).toBe(0)
  }, 180_000)

  it("runs every process as deploy/topology.ts says, which docker-compose.yml renders with the same commands and variables", async () => {
    expect(status.services.map((s) => [s.name, s.running])).toEqual([
      ["postgresql", true], ["temporal", true], ["worker-main", true], ["worker-generation", true], ["worker-scoring", true]
    ])
    const state = readState(dir)!
    const native = clusterServices(parseWorkers(state.workers), nativePlacement(state))
    const compose = composeFile()
    for (const service of native.filter((s) => s.run === "daemon")) {
      const pid = pidOf(status, service.name)!
      expect(argvOf(pid).slice(-service.steps[0]!.args.length), service.name).toEqual(service.steps[0]!.args)
      const running = environOf(pid)
      for (const [name, value] of Object.entries(service.env)) {
        if (value !== null) expect(running[name], `${service.name} ${name}`).toBe(value)
        else expect(running[name], `${service.name} ${name} passes through`).toBe(store[name] ?? process.env[name])
      }
      const docker = compose.services[service.name]!
      expect(Object.keys(docker.environment).sort(), service.name).toEqual(Object.keys(service.env).sort())
      if (service.image === "winnow") expect(docker.command, service.name).toEqual(service.steps[0]!.args)
    }
    expect(environOf(pidOf(status, "worker-main")!).WINNOW_HOME).toBe(join(dir, "home"))
    expect(Object.keys(compose.services)).toEqual(clusterServices(CLUSTER.workers, composePlacement).map((s) => s.name))
    const { stdout } = await cluster(["env", "--dir", dir])
    expect(stdout).toContain(`export TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS}\n`)
    expect(stdout).toContain(`export WINNOW_GENERATION_QUEUE=${CLUSTER.queues.generation}\n`)
  })

  it("finishes a campaign with an undisturbed run's records after the generation worker is SIGKILLed while it generates", async () => {
    const specs = tempDir("cluster-specs")
    const whole = await runCli(["campaign", "start", campaignSpec(specs, "undisturbed"), "--wait", "--json"], env, 600_000)
    expect(whole.code, whole.stderr).toBe(0)
    const undisturbed = await pulledRecords(env, "undisturbed", specs)
    expect(undisturbed).toHaveLength(10)

    const generation = pidOf(status, "worker-generation")!
    const start = await runCli(["campaign", "start", campaignSpec(specs, "killed"), "--json"], env)
    expect(start.code, start.stderr).toBe(0)
    const { campaignId } = lastJson(start.stdout)
    const generating = await untilRunning(client!, campaignId, (a) => a.type === "generate" && a.worker === `${generation}@${hostname()}`)
    process.kill(generation, "SIGKILL")
    const down = await until(async () => {
      const s = await cluster(["status", "--dir", dir, "--json"])
      const view: ClusterStatus = lastJson(s.stdout)
      return view.services.find((x) => x.name === "worker-generation")!.running ? undefined : { code: s.code, view }
    })
    expect(down.code).toBe(1)
    expect(down.view.services.filter((s) => s.running).map((s) => s.name)).toEqual(["postgresql", "temporal", "worker-main", "worker-scoring"])

    const again = await cluster(["up", "--dir", dir, "--json"], store)
    expect(again.code, again.stderr).toBe(0)
    const restarted: ClusterStatus = lastJson(again.stdout)
    for (const name of ["postgresql", "temporal", "worker-main", "worker-scoring"]) expect(pidOf(restarted, name), name).toBe(pidOf(status, name))
    const replacement = pidOf(restarted, "worker-generation")!
    expect(replacement).not.toBe(generation)

    const done = await until(async () => {
      const view = lastJson((await runCli(["campaign", "status", campaignId, "--json"], env)).stdout)
      return view.status === "RUNNING" ? undefined : view
    }, 600_000)
    expect(done.status).toBe("COMPLETED")
    expect(await pulledRecords(env, "killed", specs)).toEqual(undisturbed)
    const rerun = await closedAttempt(client!, generating.workflowId, generating.activityId)
    expect(rerun).toMatchObject({ worker: `${replacement}@${hostname()}` })
    expect(rerun!.attempt).toBeGreaterThan(generating.attempt)
    const history = lastJson((await runCli(["campaign", "history", campaignId, "--json"], env)).stdout)
    const queuesOf = Object.fromEntries(history.activities.map((a: { activity: string; queues: string[] }) => [a.activity, a.queues]))
    expect(queuesOf).toMatchObject({ generate: [CLUSTER.queues.generation], score: [CLUSTER.queues.scoring], commit: [CLUSTER.queues.store] })
    status = restarted
  }, 900_000)

  it("rejects a bad --workers and a change of workers under a running cluster, naming the flag", async () => {
    const bad = await cluster(["up", "--dir", join(base, "other"), "--workers", "main=workflows+store,gen=generation"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--workers")
    expect(bad.stderr).toContain("nothing serves scoring")
    const change = await cluster(["up", "--dir", dir, "--workers", "all=workflows+generation+scoring+store"], store)
    expect(change.code).toBe(2)
    expect(change.stderr).toContain("down first")
    const none = await cluster(["status", "--dir", join(base, "none")])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain("scripts/cluster up")
  })
})
