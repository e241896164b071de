import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Version } from "../datasets/manifest.js"
import { DatasetStore } from "../datasets/store.js"
import { ensurePythonEnv, runPython } from "../trainers/pythonEnv.js"
import { benchResult, report, type BenchResult } from "./result.js"
import { writeRecordsFile, type PlantedPair } from "./store/data.js"
import { commitStaged, exportParquet, nearDuplicates, stageRecords } from "./store/ours.js"

/** The Python peers, pinned: pyarrow for Parquet, datasketch for MinHash LSH. */
const PEERS = ["pyarrow==26.0.1", "datasketch==2.0.0", "numpy==2.2.6"]
const PEER_SCRIPT = fileURLToPath(new URL("../../bench/store/peer.py", import.meta.url))

const log = (line: string) => process.stderr.write(`${line}\n`)

const option = (args: ReadonlyArray<string>, name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(args[at + 1])
}

const seconds = async <A>(work: () => Promise<A>): Promise<[A, number]> => {
  const started = performance.now()
  const value = await work()
  return [value, (performance.now() - started) / 1000]
}

/** Share of planted near-duplicate pairs (J ≥ threshold, not exact copies) where one side was dropped. */
const recall = (planted: ReadonlyArray<PlantedPair>, dropped: ReadonlySet<string>, lang: "zh" | "en", threshold: number) => {
  const pairs = planted.filter((p) => p.lang === lang && p.jaccard >= threshold && p.original !== p.variant)
  const caught = pairs.filter((p) => dropped.has(p.original) || dropped.has(p.variant)).length
  return { pairs: pairs.length, recall: pairs.length === 0 ? 0 : caught / pairs.length }
}

/** Dropped records that are not one side of a planted pair: false positives. */
const strays = (planted: ReadonlyArray<PlantedPair>, dropped: ReadonlySet<string>): number => {
  const plantedIds = new Set(planted.flatMap((p) => [p.original, p.variant]))
  let count = 0
  for (const id of dropped) if (!plantedIds.has(id)) count++
  return count
}

/**
 * `npm run bench -- store [--records 1000000] [--shard 10000] [--repetitions 3] [--keep]`:
 * the same generated records through winnow's store and through pyarrow/datasketch, in one
 * run: staging (parse + shard segments, what shard activities do; reported), the round-end
 * commit (merge staged segments, dedup by id, sort, write, stats), near-duplicate detection
 * and Parquet export. Commit and export alternate between the two sides `repetitions` times
 * and keep each side's fastest (the machine is shared); near-dup runs once each (datasketch
 * takes minutes). Prints one line per measure, recall of planted near-duplicates, and the
 * worst ratio of commit, near-dup and export as the headline.
 */
export async function main(args: string[]): Promise<void> {
  const count = option(args, "records", 1_000_000)
  const shard = option(args, "shard", 10_000)
  const repetitions = option(args, "repetitions", 3)
  const threshold = 0.8
  const work = await mkdtemp(join(tmpdir(), "winnow-bench-store-"))
  try {
    const recordsPath = join(work, "records.jsonl")
    log(`generating ${count} records`)
    const planted = writeRecordsFile(recordsPath, count, 20261127)
    const python = await ensurePythonEnv(PEERS, log)
    const peer = async (command: ReadonlyArray<string>) =>
      JSON.parse((await runPython(python, PEER_SCRIPT, [...command])).trim().split("\n").at(-1)!)
    const store = DatasetStore.make(join(work, "store"))

    log("stage: winnow, then pyarrow")
    const [staged, oursStage] = await seconds(() => stageRecords(store, recordsPath, shard))
    await mkdir(join(work, "peer"))
    const peerStage = await peer(["stage", recordsPath, String(shard), join(work, "peer")])

    const oursCommit: Array<number> = []
    const peerCommit: Array<number> = []
    let version: Version | undefined
    for (let rep = 0; rep < repetitions; rep++) {
      log(`commit ${rep + 1}/${repetitions}: winnow, then pyarrow`)
      const [v, secs] = await seconds(() => commitStaged(store, `bench-${rep}`, staged))
      version ??= v
      oursCommit.push(secs)
      const merged = await peer(["merge", join(work, "peer", `version-${rep}.parquet`), ...peerStage.shards])
      peerCommit.push(merged.seconds)
      log(`  records kept: winnow ${v.manifest.counts.records}, pyarrow ${merged.records}`)
    }
    const committed = version!

    const segments = committed.manifest.segments.map((s) => join(store.root, "objects", s.hash.slice(0, 2), `${s.hash}.${s.format}`))
    log("near-duplicates: winnow, then datasketch")
    const [ourDropped, oursNear] = await seconds(() => nearDuplicates(store, committed, threshold))
    const peerNear = await peer(["neardup", ...segments])
    const peerDropped = new Set<string>(peerNear.dropped)

    const oursExport: Array<number> = []
    const peerExport: Array<number> = []
    for (let rep = 0; rep < repetitions; rep++) {
      log(`export ${rep + 1}/${repetitions}: winnow, then pyarrow`)
      oursExport.push((await seconds(() => exportParquet(store, "bench-0", join(work, `ours-sft-${rep}.parquet`))))[1])
      peerExport.push((await peer(["export", join(work, `peer-sft-${rep}.parquet`), ...segments])).seconds)
    }

    const n = committed.manifest.counts.records
    const quality = {
      planted_pairs: planted.length,
      winnow: { zh: recall(planted, ourDropped, "zh", threshold), en: recall(planted, ourDropped, "en", threshold), dropped: ourDropped.size, unplanted_dropped: strays(planted, ourDropped) },
      datasketch: { zh: recall(planted, peerDropped, "zh", threshold), en: recall(planted, peerDropped, "en", threshold), dropped: peerDropped.size, unplanted_dropped: strays(planted, peerDropped) }
    }
    log(`near-duplicate quality: ${JSON.stringify(quality)}`)
    log(`seconds: ${JSON.stringify({ oursStage, peerStage: peerStage.seconds, oursCommit, peerCommit, oursNear, peerNear: peerNear.seconds, oursExport, peerExport })}`)
    const fastest = (values: ReadonlyArray<number>) => Math.min(...values)
    const details: Array<BenchResult> = [
      benchResult("store.stage (parse + shard segments) vs pyarrow", count / oursStage, count / peerStage.seconds, "records/s"),
      benchResult("store.commit vs pyarrow", count / fastest(oursCommit), count / fastest(peerCommit), "records/s"),
      benchResult("store.near-dup vs datasketch", n / oursNear, n / peerNear.seconds, "records/s"),
      benchResult("store.export-parquet vs pyarrow", n / fastest(oursExport), n / fastest(peerExport), "records/s"),
      benchResult("store.near-dup recall zh (J>=0.8)", quality.winnow.zh.recall, quality.datasketch.zh.recall, "recall"),
      benchResult("store.near-dup recall en (J>=0.8)", quality.winnow.en.recall, quality.datasketch.en.recall, "recall")
    ]
    const speed = details.slice(1, 4)
    const worst = speed.reduce((a, b) => (b.ratio < a.ratio ? b : a))
    report(details, { ...worst, name: `store (worst of commit, near-dup, export): ${worst.name}` })
  } finally {
    if (!args.includes("--keep")) await rm(work, { recursive: true, force: true })
    else log(`kept ${work}`)
  }
}
