"""Peer of the score benchmark: a plain ONNX Runtime for Python batch loop over a classifier.

Reads one JSON job as the first line on stdin:
  {"model": ".../onnx/model.onnx", "threads": 2, "batch_size": 16, "pad_id": 0, "rows": [[ids...], ...]}
loads the session, runs the rows once to warm up and prints {"ready": true}. Then for each line
"run" it runs every row in order, `batch_size` at a time (right-padded with `pad_id`, attention
mask), and prints {"seconds": s, "checksum": sum of logits}; it stops at end of input. The caller
interleaves these repetitions with its own, so both see the same load on a shared machine.
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    job = json.loads(sys.stdin.readline())
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = job["threads"]
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(job["model"], options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    rows = job["rows"]
    size = job["batch_size"]

    def run_all():
        total = 0.0
        for start in range(0, len(rows), size):
            batch = rows[start:start + size]
            width = max(len(r) for r in batch)
            ids = np.full((len(batch), width), job["pad_id"], dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for j, row in enumerate(batch):
                ids[j, :len(row)] = row
                mask[j, :len(row)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            logits = session.run(["logits"], feeds)[0]
            total += float(logits.sum())
        return total

    run_all()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        began = time.perf_counter()
        checksum = run_all()
        print(json.dumps({"seconds": time.perf_counter() - began, "checksum": checksum}), flush=True)


if __name__ == "__main__":
    main()
