"""Feasibility study of winnow's self-play loop, in Python, before the TypeScript engine runs it.

Each round, for every arm: sample N answers per train prompt at temperature T from the arm's
current model (transformers generate, CPU), verify them, build an SFT set, train with the bundled
trainer (trainers/bundled/train.py: TRL SFT + ONNX export, exactly what winnow will run), and
evaluate the new model on held-out problems (greedy pass@1 and mean correctness of sampled answers).

Arms (same prompts, sampling and optimizer steps):
  full        keep up to --keep distinct correct samples per prompt (final answer checked, as
              winnow's verifier does)
  strict      as full, but a sample counts only when its worked steps are right too (a process
              check: problems.steps_correct)
  unfiltered  every sample, correct or not (arm a)
  none        no training: the base model every round (arm b)

    simulate.py --base BASE_DIR --work WORK_DIR [--rounds 3] [--prompts 384] [--steps 120] ...

Writes WORK_DIR/results.json and prints a Markdown table. Run in the trainer environment.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TRAIN_PY = os.path.join(HERE, "..", "..", "trainers", "bundled", "train.py")

from problems import EVAL_SEED, held_out, parse_mix, problem_set, steps_correct  # noqa: E402

DEFAULTS = dict(
    rounds=3,
    prompts=512,          # train prompts per round (fresh each round)
    n=8,                  # samples per prompt
    temperature=0.8,
    keep=2,               # distinct correct samples kept per prompt (full arm)
    steps=150,            # SFT optimizer steps per round, every trained arm
    batch_size=32,
    learning_rate=3e-4,
    lr_scheduler="cosine",
    warmup_ratio=0.1,
    mix="1:1,2:1,3:1,4:1",
    eval_count=400,
    eval_samples=2,
    eval_seed=EVAL_SEED,
    seed=7,
    sft_from="previous",  # previous: continue from last round's model; base: ReST-EM, restart from the base
    data_scope="union",   # round: this round's kept data; union: everything kept so far
    threads=2,
)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def load(model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    return model, tok


def sft_rows(problems, completions, correct, arm, keep):
    rows = []
    for p, cs, ok in zip(problems, completions, correct):
        chosen = []
        for c, good in zip(cs, ok):
            if arm == "strict":
                good = good and steps_correct(c, p)
            if arm == "unfiltered":
                chosen.append(c)
            elif good and c not in chosen and len(chosen) < keep:
                chosen.append(c)
        rows += [{"messages": [{"role": "user", "content": p["prompt"]}, {"role": "assistant", "content": c}]}
                 for c in chosen]
    return rows


def run_trainer(base, rows, out, work, settings):
    data = os.path.join(work, "data.jsonl")
    os.makedirs(work, exist_ok=True)
    with open(data, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    cmd = [sys.executable, TRAIN_PY, "--mode", "sft", "--base", base, "--data", data, "--out", out,
           "--work", os.path.join(work, "checkpoints"), "--settings", json.dumps(settings)]
    started = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"trainer failed ({proc.returncode}): {events[-1] if events else ''}")
    with open(os.path.join(work, "trainer.stderr"), "w") as f:
        f.write(proc.stderr)
    done = next(e for e in events if e["event"] == "done")
    losses = [e["loss"] for e in events if e["event"] == "progress"]
    export = None
    for line in proc.stderr.splitlines():
        if line.startswith("model directory written to") and " in " in line:
            export = float(line.rsplit(" in ", 1)[1].split()[0])
    return {"seconds": round(time.time() - started, 1), "train_loss": done["metrics"]["train_loss"],
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "export_seconds": export, "steps": done["metrics"]["steps"]}


def ort_check(model_dir, tok, problems, expected):
    """Greedy decoding of onnx/model.onnx with onnxruntime and a growing KV cache (the way winnow's
    generator drives it); returns how many completions equal transformers' greedy ones."""
    import numpy as np
    import onnxruntime as ort

    from sampling import chat_prompts

    sess = ort.InferenceSession(os.path.join(model_dir, "onnx", "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in sess.get_inputs()}
    outputs = [o.name for o in sess.get_outputs()]
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    same = 0
    for text, want in zip(chat_prompts(tok, problems), expected):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        past = {n: np.zeros((1, m.shape[1], 0, m.shape[3]), dtype=np.float32)
                for n, m in inputs.items() if n.startswith("past_key_values.")}
        feed_ids, pos, out = ids, 0, []
        for _ in range(96):
            n = len(feed_ids)
            feeds = {"input_ids": np.asarray([feed_ids], dtype=np.int64),
                     "attention_mask": np.ones((1, pos + n), dtype=np.int64),
                     "position_ids": np.arange(pos, pos + n, dtype=np.int64)[None, :], **past}
            res = dict(zip(outputs, sess.run(outputs, feeds)))
            token = int(res["logits"][0, -1].argmax())
            if token == eos:
                break
            out.append(token)
            past = {k.replace("present.", "past_key_values."): v for k, v in res.items() if k.startswith("present.")}
            pos += n
            feed_ids = [token]
        same += int(tok.decode(out, skip_special_tokens=True) == want)
    return same


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--arms", default="full,strict,unfiltered,none")
    for key, value in DEFAULTS.items():
        ap.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = ap.parse_args()

    import torch

    from sampling import evaluate, generate, mean, score

    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    arms = args.arms.split(",")
    mix = parse_mix(args.mix)
    eval_set, exclude = held_out(args.eval_count, args.eval_seed)
    settings = {"max_steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                "lr_scheduler": args.lr_scheduler, "warmup_ratio": args.warmup_ratio, "seed": args.seed,
                "save_steps": max(1, args.steps // 2), "max_length": 256, "threads": args.threads}
    results = {"settings": {**vars(args), "trainer_settings": settings}, "rounds": {a: [] for a in arms}}

    t = time.time()
    base_model, tok = load(args.base)
    base_eval = evaluate(base_model, tok, eval_set, samples=args.eval_samples, temperature=args.temperature,
                         seed=args.seed)
    eval_seconds = round(time.time() - t, 1)
    log(f"round 0 (base): greedy {base_eval['greedy']:.3f} sampled {base_eval['sampled']:.3f} ({eval_seconds} s)")
    for arm in arms:
        results["rounds"][arm].append({"round": 0, "eval": base_eval, "eval_seconds": eval_seconds})

    current = {a: args.base for a in arms}
    kept_so_far = {a: [] for a in arms}
    shared_samples = {}
    for r in range(1, args.rounds + 1):
        problems = problem_set(args.seed * 1000 + r, args.prompts, mix, exclude=exclude)
        for arm in arms:
            if arm == "none":
                results["rounds"][arm].append({"round": r, "eval": base_eval, "note": "base model, not retrained"})
                continue
            row = {"round": r}
            key = (current[arm], r)
            t = time.time()
            if key in shared_samples:
                completions, correct = shared_samples[key]
                row["sample_seconds"] = 0.0
            else:
                model, tok = load(current[arm])
                completions = generate(model, tok, problems, n=args.n, temperature=args.temperature,
                                       seed=args.seed * 100 + r)
                correct = score(problems, completions)
                shared_samples[key] = (completions, correct)
                row["sample_seconds"] = round(time.time() - t, 1)
            row["train_sampled_correct"] = round(mean(mean(c) for c in correct), 4)
            row["train_pass_at_n"] = round(mean(1.0 if any(c) else 0.0 for c in correct), 4)
            rows = sft_rows(problems, completions, correct, arm, args.keep)
            kept_so_far[arm] += rows
            data = kept_so_far[arm] if args.data_scope == "union" else rows
            row["train_rows"] = len(data)
            out = os.path.join(args.work, arm, f"round-{r}")
            start_from = current[arm] if args.sft_from == "previous" else args.base
            row["trainer"] = run_trainer(start_from, data, out, os.path.join(args.work, arm, f"work-{r}"),
                                         {**settings, "seed": args.seed + r})
            t = time.time()
            model, tok = load(out)
            row["eval"] = evaluate(model, tok, eval_set, samples=args.eval_samples, temperature=args.temperature,
                                   seed=args.seed)
            row["eval_seconds"] = round(time.time() - t, 1)
            current[arm] = out
            results["rounds"][arm].append(row)
            log(f"round {r} {arm}: {row['train_rows']} rows (train prompts solved {row['train_pass_at_n']:.2f}, "
                f"samples correct {row['train_sampled_correct']:.2f}); trainer {row['trainer']}; "
                f"eval greedy {row['eval']['greedy']:.3f} sampled {row['eval']['sampled']:.3f}")
            with open(os.path.join(args.work, "results.json"), "w") as f:
                json.dump(results, f, indent=1)

    checked = next((a for a in arms if a != "none"), None)
    if checked:
        model, tok = load(current[checked])
        check = eval_set[:20]
        want = [c[0] for c in generate(model, tok, check)]
        t = time.time()
        results["onnx_check"] = {"model": current[checked], "same_greedy": ort_check(current[checked], tok, check, want),
                                 "of": len(check),
                                 "seconds": round(time.time() - t, 1)}
        log(f"ONNX check: {results['onnx_check']}")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(table(results, arms))


def table(results, arms):
    lines = ["| round | " + " | ".join(f"{a} greedy | {a} sampled" for a in arms) + " |",
             "| --- |" + " --- | --- |" * len(arms)]
    rounds = max(len(results["rounds"][a]) for a in arms)
    for r in range(rounds):
        cells = []
        for a in arms:
            e = results["rounds"][a][r]["eval"]
            cells.append(f"{100 * e['greedy']:.1f} | {100 * e['sampled']:.1f}")
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
