"""Peer (a) of the generate benchmark: a straightforward ONNX Runtime for Python KV-cache loop.

Reads JSON lines on stdin: first {"model": ".../onnx/model.onnx", "threads": 2}, then one run per
line, {"name": ..., "prompts": [[ids...]], "n": 8, "max_new_tokens": 64, "stop_at_eos": false,
"eos": [..], "seed": 0}, answering each with one JSON line on stdout (so the benchmark can
interleave its peers' runs over time on a shared machine). A run with "peak_rss": true also
reports the process's peak resident memory during that run (the kernel's high-water mark, reset
just before it; Linux only). A run with "io_binding": true as well decodes the way ONNX Runtime is
meant to be driven when memory matters: the prompt prefilled once and its cache copied to the n
rows, then every step bound with IO binding into two preallocated cache buffers used in turn, so no
output is ever copied (the lowest memory this graph reaches in ONNX Runtime).
Each prompt is repeated n times along the batch, prefilled in one call, then decoded one token per
step for every row until all rows ended (rows that hit EOS keep being fed, as simple loops do).
Sampling is top-k 50 at temperature 1 with numpy.
"""

import json
import re
import sys
import time

import numpy as np
import onnxruntime as ort

TOP_K = 50


def sample(logits, rng):
    top = np.argpartition(-logits, TOP_K, axis=-1)[:, :TOP_K]
    vals = np.take_along_axis(logits, top, axis=-1)
    probs = np.exp(vals - vals.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    u = rng.random((logits.shape[0], 1))
    pick = (probs.cumsum(axis=-1) < u).sum(axis=-1).clip(0, TOP_K - 1)
    return top[np.arange(logits.shape[0]), pick]


def generate(sess, layout, prompt, n, max_new_tokens, eos, stop_at_eos, rng):
    ids = np.tile(np.asarray(prompt, dtype=np.int64), (n, 1))
    length = ids.shape[1]
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones((n, length), dtype=np.int64),
        "position_ids": np.tile(np.arange(length, dtype=np.int64), (n, 1)),
    }
    for name in layout["past"]:
        feeds[name] = np.zeros((n, layout["kv_heads"], 0, layout["head_dim"]), dtype=np.float32)
    done = np.zeros(n, dtype=bool)
    produced = np.zeros(n, dtype=np.int64)
    first = None
    start = time.perf_counter()
    for step in range(max_new_tokens):
        outputs = sess.run(None, {k: v for k, v in feeds.items() if k in layout["inputs"]})
        logits = outputs[0][:, -1, :]
        token = sample(logits, rng)
        if first is None:
            first = time.perf_counter() - start
        if stop_at_eos:
            hit = np.isin(token, eos)
            produced += ~done & ~hit
            done |= hit
            token = np.where(done, eos[0], token)
            if done.all():
                break
        else:
            produced += 1
        total = length + step + 1
        feeds["input_ids"] = token.reshape(n, 1).astype(np.int64)
        feeds["attention_mask"] = np.ones((n, total), dtype=np.int64)
        feeds["position_ids"] = np.full((n, 1), total - 1, dtype=np.int64)
        for name, value in zip(layout["present"], outputs[1:]):
            feeds[name.replace("present.", "past_key_values.")] = value
    return time.perf_counter() - start, int(produced.sum()), first


def generate_bound(sess, layout, prompt, n, max_new_tokens, rng):
    length = len(prompt)
    ids = np.asarray(prompt, dtype=np.int64).reshape(1, length)
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones((1, length), dtype=np.int64),
        "position_ids": np.arange(length, dtype=np.int64).reshape(1, length),
    }
    heads, dim = layout["kv_heads"], layout["head_dim"]
    for name in layout["past"]:
        feeds[name] = np.zeros((1, heads, 0, dim), dtype=np.float32)
    start = time.perf_counter()
    outputs = sess.run(None, {k: v for k, v in feeds.items() if k in layout["inputs"]})
    vocab = outputs[0].shape[-1]
    token = sample(np.repeat(outputs[0][:, -1, :], n, axis=0), rng).reshape(n, 1).astype(np.int64)
    first = time.perf_counter() - start
    capacity = n * heads * (length + max_new_tokens) * dim
    buffers = [{name: np.zeros(capacity, dtype=np.float32) for name in layout["past"]} for _ in range(2)]
    for name, value in zip(layout["past"], outputs[1:]):
        buffers[0][name][: n * heads * length * dim].reshape(n, heads, length, dim)[:] = value
    del outputs
    logits = np.zeros((n, 1, vocab), dtype=np.float32)
    binding = sess.io_binding()
    total = length
    for step in range(max_new_tokens - 1):
        past, present = buffers[step % 2], buffers[(step + 1) % 2]
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        step_feeds = {
            "input_ids": token,
            "attention_mask": np.ones((n, total + 1), dtype=np.int64),
            "position_ids": np.full((n, 1), total, dtype=np.int64),
        }
        for name, value in step_feeds.items():
            if name in layout["inputs"]:
                binding.bind_cpu_input(name, value)
        for name in layout["past"]:
            binding.bind_input(name, "cpu", 0, np.float32, [n, heads, total, dim], past[name].ctypes.data)
            binding.bind_output(name.replace("past_key_values.", "present."), "cpu", 0, np.float32,
                                [n, heads, total + 1, dim], present[name].ctypes.data)
        binding.bind_output("logits", "cpu", 0, np.float32, [n, 1, vocab], logits.ctypes.data)
        sess.run_with_iobinding(binding)
        token = sample(logits[:, -1, :], rng).reshape(n, 1).astype(np.int64)
        total += 1
    return time.perf_counter() - start, n * max_new_tokens, first


def resident_peak_bytes():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


def reset_resident_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def main():
    job = json.loads(sys.stdin.readline())
    options = ort.SessionOptions()
    options.intra_op_num_threads = job["threads"]
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(job["model"], options, providers=["CPUExecutionProvider"])
    meta = {i.name: i for i in sess.get_inputs()}
    past = [name for name in meta if name.startswith("past_key_values.")]
    layout = {
        "inputs": set(meta),
        "past": past,
        "present": [o.name for o in sess.get_outputs()][1:],
        "kv_heads": meta[past[0]].shape[1],
        "head_dim": meta[past[0]].shape[3],
    }
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        run = json.loads(line)
        rng = np.random.default_rng(run.get("seed", 0))
        if run.get("peak_rss"):
            reset_resident_peak()
        seconds = tokens = 0
        firsts = []
        per_prompt = []
        for prompt in run["prompts"]:
            if run.get("io_binding"):
                s, t, f = generate_bound(sess, layout, prompt, run["n"], run["max_new_tokens"], rng)
            else:
                s, t, f = generate(sess, layout, prompt, run["n"], run["max_new_tokens"], np.asarray(run["eos"]),
                                   run["stop_at_eos"], rng)
            seconds += s
            tokens += t
            per_prompt.append(s)
            firsts.append(f)
        answer = {"name": run["name"], "seconds": seconds, "tokens": tokens, "first_token_seconds": firsts,
                  "per_prompt": per_prompt, "prompts": len(run["prompts"])}
        if run.get("peak_rss"):
            answer["peak_rss_bytes"] = resident_peak_bytes()
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
