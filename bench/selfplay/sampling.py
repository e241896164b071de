"""Batched generation with transformers on the CPU, for make_base.py's check and simulate.py.
(winnow itself samples with its own ONNX decoder; this is the Python stand-in.)"""

import torch

from problems import is_correct


def chat_prompts(tokenizer, problems):
    return [tokenizer.apply_chat_template([{"role": "user", "content": p["prompt"]}],
                                          add_generation_prompt=True, tokenize=False) for p in problems]


@torch.no_grad()
def generate(model, tokenizer, problems, n=1, temperature=0.0, seed=0, max_new_tokens=80, batch_rows=1024):
    """Returns, per problem, `n` completions (strings, special tokens dropped). temperature 0 = greedy."""
    model.eval()
    tokenizer.padding_side = "left"
    texts = chat_prompts(tokenizer, problems)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    out = [[] for _ in problems]
    per_batch = max(1, batch_rows // n)
    gen = torch.Generator().manual_seed(seed)
    for start in range(0, len(texts), per_batch):
        chunk = texts[start:start + per_batch]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False,
                        return_token_type_ids=False)
        kwargs = dict(max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
        if temperature > 0:
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            kwargs.update(do_sample=True, temperature=temperature, top_k=0, top_p=1.0, num_return_sequences=n)
        else:
            kwargs.update(do_sample=False)
        seqs = model.generate(**enc, **kwargs)
        new = seqs[:, enc["input_ids"].shape[1]:]
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        reps = n if temperature > 0 else 1
        for i, text in enumerate(decoded):
            out[start + i // reps].append(text)
        if temperature <= 0 and n > 1:
            for i in range(len(chunk)):
                out[start + i] = out[start + i] * n
    return out


def score(problems, completions):
    """Per problem, a list of 0/1 correctness of its completions."""
    return [[1 if is_correct(c, p["answer"]) else 0 for c in cs] for p, cs in zip(problems, completions)]


def evaluate(model, tokenizer, problems, samples=0, temperature=0.8, seed=0):
    """Greedy pass@1 and, when `samples` > 0, mean correctness of sampled answers; per difficulty too."""
    greedy = score(problems, generate(model, tokenizer, problems))
    result = {"greedy": mean([g[0] for g in greedy]), "by_difficulty": {}}
    sampled = None
    if samples > 0:
        sampled = score(problems, generate(model, tokenizer, problems, n=samples, temperature=temperature, seed=seed))
        result["sampled"] = mean([mean(s) for s in sampled])
        result["pass_at_n"] = mean([1.0 if any(s) else 0.0 for s in sampled])
    for d in sorted({p["difficulty"] for p in problems}):
        idx = [i for i, p in enumerate(problems) if p["difficulty"] == d]
        row = {"greedy": mean([greedy[i][0] for i in idx]), "count": len(idx)}
        if sampled:
            row["sampled"] = mean([mean(sampled[i]) for i in idx])
        result["by_difficulty"][d] = row
    return result


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else 0.0
