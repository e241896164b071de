"""The self-play benchmark's verifiable task: multi-step integer arithmetic, English and Chinese.

A problem of difficulty d has d operations (d + 1 operands), each operand a uniform integer in
[1, 20], operators `+` or `-`, evaluated left to right. Exact strings (the TypeScript problem
generator produces the same ones):

    expression   12 + 7 - 5
    prompt (en)  What is 12 + 7 - 5?
    prompt (zh)  计算 12 + 7 - 5 等于多少？
    solution en  12 + 7 = 19, 19 - 5 = 14. The answer is 14.
    solution zh  12 + 7 = 19，19 - 5 = 14。答案是 14。
    answer       14

Intermediate results may be negative and are written like `-3`.

Random draws use mulberry32 (a 32-bit generator that is easy to write identically in TypeScript);
problem i of a set with seed s is drawn from its own generator seeded with
`(s * 0x9E3779B1 + i) mod 2^32`, in this order: difficulty (from the mix), the d + 1 operands
(`floor(u * 20) + 1`), the d operators (`u < 0.5` → `+`), the language (`u < 0.5` → `en`).
Sets that must be disjoint (held-out eval vs train) skip expressions of the excluded set.
"""

import re

MIN_OPERAND = 1
MAX_OPERAND = 20
# The held-out set: problem_set(EVAL_SEED, HELD_OUT_SPACE, EVAL_MIX). Evaluations use its first
# problems; no expression of it may appear in pretraining or self-play train prompts.
EVAL_SEED = 1001
HELD_OUT_SPACE = 1000
EVAL_MIX = {1: 1, 2: 1, 3: 1, 4: 1}


def held_out(count=HELD_OUT_SPACE, seed=EVAL_SEED):
    space = problem_set(seed, max(count, HELD_OUT_SPACE), EVAL_MIX)
    return space[:count], frozenset(p["expression"] for p in space)


def mulberry32(seed):
    state = seed & 0xFFFFFFFF

    def next_float():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0

    return next_float


def pick_difficulty(u, mix):
    """`mix` maps difficulty → weight; `u` in [0, 1) picks one (in increasing difficulty order)."""
    total = sum(mix.values())
    acc = 0.0
    keys = sorted(mix)
    for d in keys:
        acc += mix[d] / total
        if u < acc:
            return d
    return keys[-1]


def make_problem(operands, ops, lang):
    expression = " ".join([str(operands[0])] + [f"{op} {x}" for op, x in zip(ops, operands[1:])])
    value = operands[0]
    steps = []
    for op, x in zip(ops, operands[1:]):
        new = value + x if op == "+" else value - x
        steps.append(f"{value} {op} {x} = {new}")
        value = new
    if lang == "en":
        prompt = f"What is {expression}?"
        solution = ", ".join(steps) + f". The answer is {value}."
    else:
        prompt = f"计算 {expression} 等于多少？"
        solution = "，".join(steps) + f"。答案是 {value}。"
    return {"prompt": prompt, "solution": solution, "answer": str(value), "lang": lang,
            "difficulty": len(ops), "expression": expression}


def draw(seed, index, mix):
    u = mulberry32((seed * 0x9E3779B1 + index) & 0xFFFFFFFF)
    d = pick_difficulty(u(), mix)
    operands = [int(u() * MAX_OPERAND) + MIN_OPERAND for _ in range(d + 1)]
    ops = ["+" if u() < 0.5 else "-" for _ in range(d)]
    lang = "en" if u() < 0.5 else "zh"
    return make_problem(operands, ops, lang)


def problem_set(seed, count, mix, exclude=frozenset(), distinct=True):
    """`count` problems; none whose expression is in `exclude`; expressions distinct when `distinct`."""
    out, seen, i = [], set(), 0
    while len(out) < count:
        p = draw(seed, i, mix)
        i += 1
        if p["expression"] in exclude or (distinct and p["expression"] in seen):
            if i > count * 1000:
                raise ValueError("problem space exhausted")
            continue
        seen.add(p["expression"])
        out.append(p)
    return out


_ANSWER = re.compile(r"(?:The answer is|答案是)\s*(-?\d+)")
_NUMBER = re.compile(r"-?\d+")


def extract_answer(text):
    """What winnow's verifier reads: the number after "The answer is" / "答案是", else the last number."""
    m = _ANSWER.findall(text)
    if m:
        return m[-1]
    nums = _NUMBER.findall(text)
    return nums[-1] if nums else None


def is_correct(text, answer):
    got = extract_answer(text)
    return got is not None and int(got) == int(answer)


def parse_mix(text):
    """`1:1,2:2,3:2` → {1: 1.0, 2: 2.0, 3: 2.0}."""
    mix = {}
    for part in text.split(","):
        d, w = part.split(":")
        mix[int(d)] = float(w)
    return mix


_STEP = re.compile(r"(-?\d+) ([+-]) (\d+) = (-?\d+)")


def steps_correct(text, problem):
    """A process check: the worked steps are exactly the problem's chain (each `a op b = c` right,
    each step starting from the previous result) and the stated answer is the last result."""
    parts = problem["expression"].split(" ")
    value, expected = int(parts[0]), []
    for op, x in zip(parts[1::2], parts[2::2]):
        new = value + int(x) if op == "+" else value - int(x)
        expected.append((value, op, int(x), new))
        value = new
    found = [(int(a), op, int(b), int(c)) for a, op, b, c in _STEP.findall(text)]
    return found == expected and is_correct(text, problem["answer"])
