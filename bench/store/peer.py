"""Python equivalents of winnow's store operations, for bench/store.ts: pyarrow for Parquet
(commit = shards written, merged, deduplicated by id, sorted, written as zstd; export = TRL SFT
rows as zstd Parquet) and datasketch MinHash LSH for near-duplicates (same tokenisation and
shingles as the store: CJK characters and words, 3-grams salted with the prompt, 128
permutations, 16 bands of 8 rows). Each command prints one JSON line with its own timing
(interpreter start-up and imports excluded, as on winnow's side).

usage: python peer.py stage RECORDS.jsonl SHARD_SIZE WORK_DIR
       python peer.py merge OUT.parquet SHARD.parquet...
       python peer.py neardup SEGMENT.parquet... 
       python peer.py export OUT.parquet SEGMENT.parquet...
"""
import json
import os
import re
import sys
import unicodedata
from time import perf_counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema([
    ("id", pa.string()), ("kind", pa.string()), ("prompt_id", pa.string()), ("messages", pa.list_(MESSAGE)),
    ("response", pa.string()), ("score", pa.float64()), ("scores", pa.map_(pa.string(), pa.float64())),
    ("round", pa.int32()), ("sample_index", pa.int32()),
])


def write_shard(rows, path):
    for row in rows:
        row["scores"] = list(row["scores"].items())
    table = pa.Table.from_pylist(rows, schema=SCHEMA).sort_by("id")
    pq.write_table(table, path, compression="zstd")


def stage(records, shard_size, work):
    """Parse the JSONL records, and per shard build an Arrow table, sort by id, write zstd Parquet."""
    started = perf_counter()
    shards = []
    batch = []
    with open(records, encoding="utf-8") as f:
        for line in f:
            batch.append(json.loads(line))
            if len(batch) == shard_size:
                shards.append(os.path.join(work, f"shard-{len(shards)}.parquet"))
                write_shard(batch, shards[-1])
                batch = []
    if batch:
        shards.append(os.path.join(work, f"shard-{len(shards)}.parquet"))
        write_shard(batch, shards[-1])
    return {"seconds": perf_counter() - started, "shards": shards}


def merge(out, shards):
    """The round-end commit: read the shards, keep the best copy per id, sort by id, write zstd, score stats."""
    started = perf_counter()
    table = pa.concat_tables([pq.read_table(p) for p in shards]).sort_by([("id", "ascending"), ("score", "descending")])
    ids = table.column("id").combine_chunks()
    first = np.ones(len(ids), dtype=bool)
    if len(ids) > 1:
        first[1:] = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).to_numpy(zero_copy_only=False)
    table = table.filter(pa.array(first))
    pq.write_table(table, out, compression="zstd")
    score = table.column("score")
    stats = {"mean": pc.mean(score).as_py(), "min": pc.min(score).as_py(), "max": pc.max(score).as_py(),
             "p50": pc.quantile(score, q=0.5, interpolation="lower")[0].as_py(),
             "p90": pc.quantile(score, q=0.9, interpolation="lower")[0].as_py()}
    return {"seconds": perf_counter() - started, "records": table.num_rows, "stats": stats}


CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(f"[{CJK}]|[^\\W_{CJK}]+")


def tokens(text):
    return TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(salt, toks):
    if not toks:
        return [salt.encode()]
    width = min(3, len(toks))
    return [f"{salt}|{' '.join(toks[i:i + width])}".encode() for i in range(len(toks) - width + 1)]


def neardup(paths):
    from datasketch import MinHash, MinHashLSH
    started = perf_counter()
    table = pa.concat_tables([pq.read_table(p, columns=["id", "score", "messages", "response"]) for p in paths])
    table = table.sort_by([("score", "descending"), ("id", "ascending")])
    lsh = MinHashLSH(num_perm=128, params=(16, 8))
    dropped = []
    for id_, messages, response in zip(table.column("id").to_pylist(), table.column("messages").to_pylist(),
                                       table.column("response").to_pylist()):
        prompt = "\n".join(m["content"] for m in messages if m["role"] == "user")
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(shingles(" ".join(tokens(prompt)), tokens(response or "")))
        if lsh.query(m):
            dropped.append(id_)
        else:
            lsh.insert(id_, m)
    return {"seconds": perf_counter() - started, "dropped": dropped}


def export(out, paths):
    started = perf_counter()
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    table = table.filter(pc.equal(table.column("kind"), "sft"))
    n = table.num_rows
    messages = table.column("messages").combine_chunks()
    offsets = messages.offsets.to_numpy()
    flat = messages.flatten()
    answers = pa.StructArray.from_arrays(
        [pa.array(np.full(n, "assistant", dtype=object), pa.string()), table.column("response").combine_chunks()],
        fields=list(MESSAGE))
    lengths = np.diff(offsets) + 1
    new_offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=new_offsets[1:])
    take = np.empty(new_offsets[-1], dtype=np.int64)
    position = np.arange(new_offsets[-1]) - np.repeat(new_offsets[:-1], lengths)
    row = np.repeat(np.arange(n), lengths)
    is_answer = position == lengths[row] - 1
    take[~is_answer] = np.arange(len(flat))
    take[is_answer] = len(flat) + np.arange(n)
    values = pa.concat_arrays([flat, answers]).take(pa.array(take))
    scores = table.column("scores").combine_chunks()
    names = sorted(set(pc.unique(scores.keys).to_pylist()))
    scores_struct = pa.StructArray.from_arrays([pc.map_lookup(scores, name, "first") for name in names], names=names)
    out_table = pa.table({
        "messages": pa.ListArray.from_arrays(pa.array(new_offsets), values), "score": table.column("score"),
        "scores": scores_struct, "id": table.column("id"), "prompt_id": table.column("prompt_id"), "round": table.column("round"),
    })
    pq.write_table(out_table, out, compression="zstd")
    return {"seconds": perf_counter() - started, "records": n}


def main():
    command = sys.argv[1]
    if command == "stage":
        result = stage(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif command == "merge":
        result = merge(sys.argv[2], sys.argv[3:])
    elif command == "neardup":
        result = neardup(sys.argv[2:])
    else:
        result = export(sys.argv[2], sys.argv[3:])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
