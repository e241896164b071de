"""winnow's bundled trainer: SFT or DPO with TRL on the CPU, then a winnow model directory.

    train.py --mode sft|dpo --base MODEL_DIR --data FILE.jsonl --out OUT_DIR --work WORK_DIR [--settings JSON]

Data (one JSON object per line):
  sft  {"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}, last turn the
       assistant's; the loss is on that last assistant turn only (the row is passed to TRL as the
       conversational prompt-completion form {"prompt": messages[:-1], "completion": [last]}).
       Rows already in that form ({"prompt": [...], "completion": [...]}) are accepted too.
  dpo  conversational: {"prompt": [messages...], "chosen": [{"role": "assistant", "content": str}],
       "rejected": [{"role": "assistant", "content": str}]} (TRL's conversational preference form
       with an explicit prompt), or the plain form {"prompt": str, "chosen": str, "rejected": str}
       (text continued as is, no chat template). One file holds one form. The reference model is
       the base.

--settings is a JSON object; keys and defaults are in SETTINGS below; unknown keys are refused.

stdout carries one JSON object per line, for the caller:
  {"event": "resumed", "step": N}                         WORK_DIR held a checkpoint
  {"event": "progress", "step": N, "total_steps": M, "loss": x, "epoch": e}
  {"event": "done", "metrics": {"train_loss", "steps", "train_samples", "seconds"}}
  {"event": "error", "kind": "input"|"internal", "message": str}   then exit 2 (input) or 1
Everything else (library logs, warnings) goes to stderr.

OUT_DIR afterwards: config.json, generation_config.json (eos = <|im_end|>), model.safetensors,
tokenizer files with the chat template, onnx/model.onnx (Optimum text-generation-with-past),
written last. Checkpoints go to WORK_DIR (checkpoint-N); a rerun with the same arguments resumes
from the latest one.
"""

import argparse
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# The defaults, in one place. `None` means "the library's choice" where noted.
SETTINGS = {
    "learning_rate": 2e-5,
    "epochs": 1.0,
    "max_steps": None,          # when set, overrides epochs
    "batch_size": 8,            # per step, before accumulation
    "grad_accum": 1,
    "seed": 0,
    "max_length": 1024,         # tokens per row (SFT) / per prompt + completion (DPO); longer rows are cut
    "beta": 0.1,                # DPO only
    "save_steps": 50,
    "save_total_limit": 2,
    "warmup_ratio": 0.0,
    "lr_scheduler": "linear",   # any transformers SchedulerType: linear, cosine, constant, constant_with_warmup, ...
    "weight_decay": 0.0,
    "logging_steps": 1,
    "threads": None,            # torch CPU threads; None = torch's default (all cores)
}
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "warmup_stable_decay")
ROLES = ("system", "user", "assistant", "tool")


class InputError(Exception):
    """Bad input from the caller: exit code 2."""


# --- events -------------------------------------------------------------------------------------

# Library code may print to stdout; the caller reads stdout as JSON lines. Keep a private handle on
# the real stdout and point file descriptor 1 (and sys.stdout) at stderr.
_EVENTS = None


def _claim_stdout():
    global _EVENTS
    _EVENTS = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def emit(event, **fields):
    line = json.dumps({"event": event, **fields}, ensure_ascii=False)
    (_EVENTS or sys.stdout).write(line + "\n")
    (_EVENTS or sys.stdout).flush()


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- inputs -------------------------------------------------------------------------------------

def parse_settings(text):
    if text is None or text.strip() == "":
        given = {}
    else:
        try:
            given = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"--settings is not valid JSON: {e}")
        if not isinstance(given, dict):
            raise InputError(f"--settings must be a JSON object, got {type(given).__name__}")
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise InputError(f"unknown setting {unknown[0]!r}; allowed: {', '.join(SETTINGS)}")
    s = dict(SETTINGS)
    s.update(given)
    positive_int = ("batch_size", "grad_accum", "max_length", "save_steps", "save_total_limit", "logging_steps")
    for key in positive_int:
        _check(key, s[key], isinstance(s[key], int) and not isinstance(s[key], bool) and s[key] >= 1,
               "a positive integer")
    for key in ("max_steps", "threads"):
        if s[key] is not None:
            _check(key, s[key], isinstance(s[key], int) and not isinstance(s[key], bool) and s[key] >= 1,
                   "a positive integer or null")
    _check("seed", s["seed"], isinstance(s["seed"], int) and not isinstance(s["seed"], bool) and s["seed"] >= 0,
           "a non-negative integer")
    for key in ("learning_rate", "epochs", "beta"):
        _check(key, s[key], _number(s[key]) and s[key] > 0, "a positive number")
    for key in ("warmup_ratio", "weight_decay"):
        _check(key, s[key], _number(s[key]) and 0 <= s[key] <= (1 if key == "warmup_ratio" else 10),
               "a number in [0, 1]" if key == "warmup_ratio" else "a non-negative number")
    _check("lr_scheduler", s["lr_scheduler"], s["lr_scheduler"] in SCHEDULERS, "one of " + ", ".join(SCHEDULERS))
    return s


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check(key, value, ok, expected):
    if not ok:
        raise InputError(f"setting {key!r} is {json.dumps(value)}; expected {expected}")


def check_base(base):
    if not os.path.isdir(base):
        raise InputError(f"--base {base}: no such directory")
    if not os.path.exists(os.path.join(base, "config.json")):
        raise InputError(f"--base {base}: no config.json (a Hugging Face model directory is expected)")
    weights = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
    if not any(os.path.exists(os.path.join(base, w)) for w in weights):
        raise InputError(f"--base {base}: no PyTorch weights (expected one of {', '.join(weights)}); "
                         "an ONNX-only model cannot be trained")
    if not os.path.exists(os.path.join(base, "tokenizer.json")) and not os.path.exists(
            os.path.join(base, "tokenizer_config.json")):
        raise InputError(f"--base {base}: no tokenizer (tokenizer.json / tokenizer_config.json)")


def _messages(where, field, value, roles=ROLES, min_len=1):
    if not isinstance(value, list) or len(value) < min_len:
        raise InputError(f"{where}: field {field!r} must be a list of at least {min_len} message(s)")
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise InputError(f"{where}: {field}[{i}] must be an object with role and content")
        if m.get("role") not in roles:
            raise InputError(f"{where}: {field}[{i}].role is {json.dumps(m.get('role'))}; expected one of "
                             f"{', '.join(roles)}")
        if not isinstance(m.get("content"), str):
            raise InputError(f"{where}: {field}[{i}].content must be a string")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def read_rows(path, mode):
    """Validated rows in TRL's form: SFT → {prompt, completion}; DPO → {prompt, chosen, rejected}."""
    if not os.path.isfile(path):
        raise InputError(f"--data {path}: no such file")
    rows, form = [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{where}: not valid JSON ({e})")
            if not isinstance(row, dict):
                raise InputError(f"{where}: a JSON object is expected, got {type(row).__name__}")
            if mode == "sft":
                rows.append(_sft_row(where, row))
            else:
                row_form = "plain" if isinstance(row.get("prompt"), str) else "conversational"
                if form is None:
                    form = row_form
                elif row_form != form:
                    raise InputError(f"{where}: a {row_form} row in a file of {form} rows")
                rows.append(_dpo_row(where, row, form))
    if not rows:
        raise InputError(f"--data {path}: no rows")
    return rows


def _sft_row(where, row):
    if "messages" in row:
        msgs = _messages(where, "messages", row["messages"], min_len=2)
        if msgs[-1]["role"] != "assistant":
            raise InputError(f"{where}: the last of 'messages' must be the assistant's turn (it is "
                             f"{json.dumps(msgs[-1]['role'])})")
        return {"prompt": msgs[:-1], "completion": msgs[-1:]}
    if "prompt" in row and "completion" in row:
        prompt = _messages(where, "prompt", row["prompt"])
        completion = _messages(where, "completion", row["completion"], roles=("assistant",))
        return {"prompt": prompt, "completion": completion}
    raise InputError(f"{where}: field 'messages' is missing (SFT rows are {{\"messages\": [{{role, content}}, ...]}})")


def _dpo_row(where, row, form):
    for key in ("prompt", "chosen", "rejected"):
        if key not in row:
            raise InputError(f"{where}: field {key!r} is missing (DPO rows are {{prompt, chosen, rejected}})")
    if form == "plain":
        for key in ("prompt", "chosen", "rejected"):
            if not isinstance(row[key], str):
                raise InputError(f"{where}: field {key!r} must be a string in a plain-text row")
        return {"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]}
    prompt = _messages(where, "prompt", row["prompt"])
    if prompt[-1]["role"] == "assistant":
        raise InputError(f"{where}: the prompt's last message must not be the assistant's")
    return {"prompt": prompt,
            "chosen": _messages(where, "chosen", row["chosen"], roles=("assistant",)),
            "rejected": _messages(where, "rejected", row["rejected"], roles=("assistant",))}


# --- work dir -----------------------------------------------------------------------------------

def job_fingerprint(args, settings):
    h = hashlib.sha256()
    with open(args.data, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"mode": args.mode, "base": os.path.abspath(args.base), "data_sha256": h.hexdigest(),
            "settings": settings}


def prepare_work(work, fingerprint):
    """WORK_DIR holds the checkpoints of one job: refuses another job's."""
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "job.json")
    if os.path.exists(path):
        with open(path) as f:
            previous = json.load(f)
        if previous != fingerprint:
            differs = [k for k in fingerprint if previous.get(k) != fingerprint[k]]
            raise InputError(f"--work {work} holds checkpoints of another job (different {', '.join(differs)}); "
                             "use a fresh work directory")
    else:
        with open(path + ".tmp", "w") as f:
            json.dump(fingerprint, f, indent=1)
        os.replace(path + ".tmp", path)


def latest_checkpoint(work):
    """The newest complete checkpoint in WORK_DIR and its step. The Trainer writes
    trainer_state.json last, so a checkpoint without a readable one was cut short by a crash: it
    is removed and the one before it used."""
    import re
    import shutil

    if not os.path.isdir(work):
        return None, 0
    found = sorted(((int(m.group(1)), e) for e in os.listdir(work)
                    if (m := re.fullmatch(r"checkpoint-(\d+)", e)) and os.path.isdir(os.path.join(work, e))),
                   reverse=True)
    for _, entry in found:
        path = os.path.join(work, entry)
        try:
            with open(os.path.join(path, "trainer_state.json")) as f:
                return path, int(json.load(f).get("global_step", 0))
        except (OSError, ValueError):
            log(f"removing incomplete checkpoint {path}")
            shutil.rmtree(path, ignore_errors=True)
    return None, 0


# --- training -----------------------------------------------------------------------------------

def make_callback():
    from transformers import TrainerCallback

    class JsonProgress(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs and "loss" in logs:
                emit("progress", step=state.global_step, total_steps=state.max_steps,
                     loss=round(float(logs["loss"]), 6), epoch=round(float(logs.get("epoch", state.epoch or 0)), 4))

    return JsonProgress()


def common_args(s, work):
    args = dict(
        output_dir=work,
        learning_rate=s["learning_rate"],
        num_train_epochs=s["epochs"],
        max_steps=s["max_steps"] if s["max_steps"] is not None else -1,
        per_device_train_batch_size=s["batch_size"],
        gradient_accumulation_steps=s["grad_accum"],
        seed=s["seed"],
        data_seed=s["seed"],
        max_length=s["max_length"],
        lr_scheduler_type=s["lr_scheduler"],
        warmup_ratio=s["warmup_ratio"],
        weight_decay=s["weight_decay"],
        logging_steps=s["logging_steps"],
        logging_first_step=True,
        save_strategy="steps",
        save_steps=s["save_steps"],
        save_total_limit=s["save_total_limit"],
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        bf16=False,             # TRL turns bf16 on by default, even on the CPU
        fp16=False,
        gradient_checkpointing=False,  # TRL's default is on; pointless for small CPU runs
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        save_only_model=False,
    )
    return args


def train(args, s, rows):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if s["threads"]:
        torch.set_num_threads(s["threads"])
    from modeldir import ensure_chat_template, turn_end_id

    tokenizer = AutoTokenizer.from_pretrained(args.base)
    try:
        ensure_chat_template(tokenizer, args.base)
        turn_end_id(tokenizer)
    except ValueError as e:
        raise InputError(f"--base {args.base}: {e}")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    dataset = Dataset.from_list(rows)

    checkpoint, step = latest_checkpoint(args.work)
    if checkpoint:
        log(f"resuming from {checkpoint}")
        emit("resumed", step=step)

    callbacks = [make_callback()]
    if args.mode == "sft":
        from trl import SFTConfig, SFTTrainer

        config = SFTConfig(**common_args(s, args.work), completion_only_loss=True, packing=False,
                           dataset_num_proc=None)
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                             callbacks=callbacks)
    else:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(**common_args(s, args.work), beta=s["beta"])
        trainer = DPOTrainer(model=model, ref_model=None, args=config, train_dataset=dataset,
                             processing_class=tokenizer, callbacks=callbacks)
    result = trainer.train(resume_from_checkpoint=checkpoint)
    # The Trainer's train_loss after a resume averages only the resumed steps over all steps; the
    # log history (restored from the checkpoint) has every logged step.
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    train_loss = sum(losses) / len(losses) if losses else float(result.training_loss)
    return trainer.model, tokenizer, train_loss, int(result.global_step), len(dataset)


def main(argv=None):
    _claim_stdout()
    ap = argparse.ArgumentParser(description="winnow's bundled trainer (TRL SFT / DPO on CPU).")
    ap.add_argument("--mode", required=True, choices=("sft", "dpo"))
    ap.add_argument("--base", required=True, help="model directory with PyTorch weights and a tokenizer")
    ap.add_argument("--data", required=True, help="JSONL: SFT messages rows or DPO prompt/chosen/rejected rows")
    ap.add_argument("--out", required=True, help="where the trained model directory goes")
    ap.add_argument("--work", required=True, help="checkpoints; a rerun resumes from the latest")
    ap.add_argument("--settings", help="JSON object of settings: " + ", ".join(SETTINGS))
    args = ap.parse_args(argv)
    started = time.time()
    try:
        settings = parse_settings(args.settings)
        check_base(args.base)
        rows = read_rows(args.data, args.mode)
        if os.path.abspath(args.out) == os.path.abspath(args.base):
            raise InputError("--out must differ from --base")
        prepare_work(args.work, job_fingerprint(args, settings))
        log(f"{args.mode}: {len(rows)} rows, settings {json.dumps(settings)}")
        model, tokenizer, train_loss, steps, samples = train(args, settings, rows)
        from modeldir import write_model_dir

        t = time.time()
        files = write_model_dir(model, tokenizer, args.out, scratch_dir=os.path.join(args.work, "export"),
                                source_dir=args.base)
        log(f"model directory written to {args.out} (onnx: {', '.join(files)}) in {time.time() - t:.1f} s")
        metrics = {"train_loss": round(train_loss, 6), "steps": steps,
                   "train_samples": samples, "seconds": round(time.time() - started, 1)}
        emit("done", metrics=metrics)
        return 0
    except InputError as e:
        log(f"error: {e}")
        emit("error", kind="input", message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - reported to the caller, with the traceback on stderr
        import traceback

        traceback.print_exc()
        emit("error", kind="internal", message=f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
