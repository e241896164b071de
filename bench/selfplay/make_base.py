"""Builds the self-play benchmark's weak base model: a tokenizer, a tiny Llama-architecture decoder
trained from scratch on CPU on the bilingual arithmetic task (problems.py), saved as a winnow model
directory (PyTorch checkpoint at the root, ONNX in onnx/, ChatML template, eos = <|im_end|>).

    make_base.py --out DIR [--data pretrain.jsonl] [--steps N] [--seed S] [--eval-count 200]
    make_base.py --out DIR --tiny          # random-weight model of the same layout, in seconds

--data rows: {"prompt", "solution", "lang", "difficulty"} (what the TypeScript bench writes);
without it the pretraining set is generated here (--mix, seed --seed, disjoint from the held-out
set of seed --eval-seed). Logs go to stderr; the last stdout line is a JSON summary.
Run in the trainer environment (trainers/packages.ts).
"""

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "trainers", "bundled"))

from problems import EVAL_SEED, held_out, parse_mix, problem_set  # noqa: E402

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# Qwen2's pre-tokenizer split: digits one by one, letters (CJK included) in runs.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

DEFAULTS = dict(
    mix="1:2,2:3,3:1,4:0.2",  # difficulty:weight of the pretraining set (held-out: 1..4 uniform)
    steps=700,
    batch_size=32,
    lr=3e-3,
    warmup=40,
    hidden=128,
    layers=4,
    heads=4,
    kv_heads=2,
    intermediate=384,
    context=512,
    vocab_size=400,
    seed=1,
    eval_seed=EVAL_SEED,
    eval_count=200,
)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def tokenizer_corpus():
    """Text the BPE merges are learned from: every template string of the task, both languages."""
    rows = problem_set(7, 2000, {1: 1, 2: 1, 3: 1, 4: 1, 5: 1})
    texts = []
    for p in rows:
        texts.append(f"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{p['prompt']}<|im_end|>\n"
                     f"<|im_start|>assistant\n{p['solution']}<|im_end|>\n")
    return texts


def build_tokenizer(vocab_size):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from tokenizers import Regex
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=["<|im_start|>"], model_max_length=DEFAULTS["context"],
                                   model_input_names=["input_ids", "attention_mask"])
    fast.chat_template = CHATML
    return fast


def build_model(tok, args):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=args.context, rms_norm_eps=1e-5, tie_word_embeddings=True, rope_theta=10000.0,
        bos_token_id=tok.convert_tokens_to_ids("<|endoftext|>"), eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"), attention_dropout=0.0,
    )
    torch.manual_seed(args.seed)
    return LlamaForCausalLM(config)


def load_rows(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            for key in ("prompt", "solution"):
                if not isinstance(row.get(key), str):
                    raise ValueError(f"{path}:{n}: field {key!r} must be a string")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def _expression(prompt):
    if prompt.startswith("What is "):
        return prompt[len("What is "):].rstrip("?")
    if prompt.startswith("计算 "):
        return prompt[len("计算 "):].split(" 等于")[0]
    return prompt


def encode(tok, rows):
    """(input_ids, labels) per row: loss on the assistant turn (its text and <|im_end|>) only."""
    out = []
    for r in rows:
        prompt = tok.apply_chat_template([{"role": "user", "content": r["prompt"]}], add_generation_prompt=True,
                                         tokenize=False)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        c_ids = tok(r["solution"] + "<|im_end|>\n", add_special_tokens=False)["input_ids"]
        out.append((p_ids + c_ids, [-100] * len(p_ids) + c_ids))
    return out


def pretrain(model, tok, rows, args, probe=None):
    """`probe(step)` is called every --eval-every steps (a held-out check while tuning)."""
    import torch

    data = encode(tok, rows)
    rng = random.Random(args.seed)
    pad = tok.pad_token_id
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    order = []
    model.train()
    started = time.time()
    for step in range(args.steps):
        batch = []
        for _ in range(args.batch_size):
            if not order:
                order = list(range(len(data)))
                rng.shuffle(order)
            batch.append(data[order.pop()])
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (x, y) in enumerate(batch):
            ids[i, :len(x)] = torch.tensor(x)
            labels[i, :len(y)] = torch.tensor(y)
            mask[i, :len(x)] = 1
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            log(f"step {step + 1}/{args.steps} loss {loss.item():.4f} lr {lr_at(step):.2e} "
                f"{time.time() - started:.0f}s")
        if probe and args.eval_every and (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            model.eval()
            probe(step + 1)
            model.train()
    model.eval()
    return time.time() - started


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="pretraining JSONL ({prompt, solution, lang, difficulty})")
    ap.add_argument("--tiny", action="store_true", help="random weights, same layout, seconds")
    ap.add_argument("--count", type=int, help="generated pretraining problems (default steps × batch)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=0, help="greedy held-out check every K steps (tuning)")
    for key, value in DEFAULTS.items():
        ap.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from modeldir import write_model_dir
    from sampling import evaluate

    started = time.time()
    tok = build_tokenizer(args.vocab_size)
    summary = {"event": "done", "vocab_size": len(tok)}
    if args.tiny:
        args.hidden, args.intermediate, args.layers, args.heads, args.kv_heads = 32, 64, 2, 4, 2
        args.steps = 0
    model = build_model(tok, args)
    summary["parameters"] = sum(p.numel() for p in model.parameters())
    log(f"tokenizer: {len(tok)} tokens; model: {summary['parameters']:,} parameters")
    eval_problems, held_out_expressions = held_out(args.eval_count, args.eval_seed)
    if args.steps > 0:
        if args.data:
            rows = load_rows(args.data)
        else:
            rows = problem_set(args.seed, args.count or args.steps * args.batch_size, parse_mix(args.mix),
                               exclude=held_out_expressions, distinct=False)
        leaked = sum(1 for r in rows if r.get("expression", _expression(r["prompt"])) in held_out_expressions)
        if leaked:
            log(f"warning: {leaked} pretraining rows use held-out expressions")
        summary["train_rows"] = len(rows)
        def probe(step):
            from sampling import generate, mean, score

            greedy = score(eval_problems, generate(model, tok, eval_problems))
            log(f"probe step {step}: held-out greedy pass@1 {mean(g[0] for g in greedy):.3f}")

        summary["train_seconds"] = round(pretrain(model, tok, rows, args, probe), 1)
    if args.eval_count > 0 and not args.tiny:
        t = time.time()
        result = evaluate(model, tok, eval_problems, samples=8, temperature=0.8, seed=args.seed)
        summary["eval"] = result
        summary["eval_seconds"] = round(time.time() - t, 1)
        log(f"held-out greedy pass@1 {result['greedy']:.3f}, sampled {result['sampled']:.3f}, "
            f"pass@8 {result['pass_at_n']:.3f}; {json.dumps(result['by_difficulty'])}")
    t = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        write_model_dir(model, tok, args.out, scratch_dir=scratch)
    summary["export_seconds"] = round(time.time() - t, 1)
    summary["seconds"] = round(time.time() - started, 1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
