import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Client } from "@temporalio/client"
import { startCampaign } from "../../cli/campaignClient.js"
import { loadSpecFile } from "../../cli/specFile.js"
import type { CampaignResult } from "../../campaign/contracts.js"
import { spawnWorkerProcess, untilPolling, type WorkerProcess } from "../../tests/support/faults.js"
import { type CampaignTimeline, campaignTimeline } from "./timeline.js"

/** Where campaigns run: a Temporal server's address, its process and a client of it. */
export interface Cluster {
  readonly address: string
  readonly serverPid: number
  readonly client: Client
}

/** CPU seconds (user + system) a live process has used so far, from /proc (Linux). */
export const cpuSecondsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** One campaign run by `workers` worker processes: its result, its wall time as the client saw it, and its histories' timeline. */
export interface CampaignRun {
  readonly result: CampaignResult
  readonly seconds: number
  readonly timeline: CampaignTimeline
  /** CPU seconds the worker processes and the Temporal server used during the run. */
  readonly cpu: { readonly workers: number; readonly server: number }
}

/**
 * Runs the campaign `specPath` to completion on `workers` fresh `winnow worker` processes (each
 * with `threads` inference threads) sharing one fresh winnow home under `dir`, on a task queue of
 * its own. The clock runs from the campaign's start request to its result (end to end: prepare,
 * shards, statistics, commit); the workers are started and polling before it starts.
 */
export const runCampaign = async (cluster: Cluster, options: { dir: string; name: string; specPath: string; workers: number; threads?: number }): Promise<CampaignRun> => {
  const queue = `engine-${options.name}-${process.pid}`
  const home = join(options.dir, `home-${options.name}`)
  const workers: WorkerProcess[] = Array.from({ length: options.workers }, () =>
    spawnWorkerProcess({ address: cluster.address, queue, home, ...(options.threads !== undefined ? { threads: options.threads } : {}) }))
  try {
    await untilPolling(cluster.client, queue, workers.map((w) => w.identity))
    const loaded = loadSpecFile(options.specPath)
    const cpuBefore = { workers: workers.reduce((sum, w) => sum + cpuSecondsOf(w.child.pid!), 0), server: cpuSecondsOf(cluster.serverPid) }
    const started = performance.now()
    const handle = await startCampaign(cluster.client, queue, loaded)
    const result = (await handle.result()) as CampaignResult
    const seconds = (performance.now() - started) / 1000
    const cpu = { workers: workers.reduce((sum, w) => sum + cpuSecondsOf(w.child.pid!), 0) - cpuBefore.workers, server: cpuSecondsOf(cluster.serverPid) - cpuBefore.server }
    return { result, seconds, cpu, timeline: await campaignTimeline(cluster.client, handle.workflowId) }
  } catch (error) {
    for (const w of workers) process.stderr.write(w.log())
    throw error
  } finally {
    await Promise.all(workers.map((w) => w.kill()))
  }
}
