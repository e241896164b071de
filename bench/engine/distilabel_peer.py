"""distilabel's pipeline as the engine benchmark's peer (bench/engine.ts).

The same prompts and N as winnow's echo campaign, through distilabel's own machinery: a loader
step, `TextGeneration` with `num_generations = N` on a do-nothing LLM that answers exactly as
winnow's echo backend does (sample i is the prompt written i + 1 times, one copy per line, cut
at max_new_tokens characters), a best-of-N step that scores every generation with the same
heuristic (language match x distinct-2 x length adequacy) and keeps the best, then the dataset
written to disk with `Distiset.save_to_disk`. Prints one JSON line: samples, seconds, rows.

usage: distilabel_peer.py PROMPTS.jsonl N OUT_DIR [MAX_NEW_TOKENS] [BATCH]
"""
import json
import os
import resource
import shutil
import sys
import time
import unicodedata
from typing import Any, List

from distilabel.models.llms.base import LLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts, StepInput, step
from distilabel.steps.tasks import TextGeneration

MAX_NEW_TOKENS = int(sys.argv[4]) if len(sys.argv) > 4 else 128
TARGET_CHARS = 64


class EchoLLM(LLM):
    """Answers without a model, as winnow's echo backend with its default template."""

    def load(self) -> None:
        super().load()

    @property
    def model_name(self) -> str:
        return "echo"

    def generate(self, inputs: List[Any], num_generations: int = 1, max_new_tokens: int = 128) -> List[Any]:
        outputs = []
        for conversation in inputs:
            user = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), "")
            generations = []
            for sample in range(num_generations):
                text = "\n".join([user] * (sample + 1))[:max_new_tokens]
                generations.append(text)
            prompt_tokens = sum(len(m["content"]) for m in conversation)
            outputs.append({
                "generations": generations,
                "statistics": {"input_tokens": [prompt_tokens] * num_generations, "output_tokens": [len(g) for g in generations]},
            })
        return outputs


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF
            or 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF) and unicodedata.category(ch)[0] != "N"


def units(text: str) -> List[str]:
    out, word = [], ""
    for ch in unicodedata.normalize("NFKC", text):
        if is_cjk(ch):
            if word:
                out.append(word.lower())
            word = ""
            out.append(ch)
        elif ch.isalnum():
            word += ch
        else:
            if word:
                out.append(word.lower())
            word = ""
    if word:
        out.append(word.lower())
    return out


def language(text: str) -> str:
    u = units(text)
    if not u:
        return "none"
    cjk = sum(1 for x in u if len(x) == 1 and is_cjk(x))
    return "cjk" if cjk * 2 >= len(u) else "latin"


def distinct2(text: str) -> float:
    u = units(text)
    if len(u) < 2:
        return 0.0 if not u else 1.0
    grams = {(u[i], u[i + 1]) for i in range(len(u) - 1)}
    return len(grams) / (len(u) - 1)


def quality(prompt: str, response: str) -> float:
    length = len(response.strip())
    if length == 0:
        return 0.0
    want, got = language(prompt), language(response)
    match = 0.0 if got == "none" else (1.0 if want == "none" or want == got else 0.0)
    return match * distinct2(response) * min(1.0, length / TARGET_CHARS)


@step(inputs=["instruction", "generation"], outputs=["generation", "score", "sample_index"])
def BestOfN(inputs: StepInput):
    """Scores every generation of a row and keeps the best (the first of equals)."""
    for row in inputs:
        generations = row["generation"]
        scores = [quality(row["instruction"], g) for g in generations]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        row["generation"] = generations[best]
        row["score"] = scores[best]
        row["sample_index"] = best
    yield inputs


def main() -> None:
    prompts_path, n, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    with open(prompts_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    data = [{"id": r["id"], "instruction": r["prompt"]} for r in rows]
    cache = os.path.join(out_dir, "cache")
    shutil.rmtree(out_dir, ignore_errors=True)
    cpu_at_start = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    started = time.perf_counter()
    with Pipeline(name="winnow-engine-peer", cache_dir=cache) as pipeline:
        load = LoadDataFromDicts(data=data, batch_size=batch)
        generate = TextGeneration(llm=EchoLLM(generation_kwargs={"max_new_tokens": MAX_NEW_TOKENS}), num_generations=n, group_generations=True, input_batch_size=batch)
        select = BestOfN(input_batch_size=batch)
        load >> generate >> select
    distiset = pipeline.run(use_cache=False)
    generated = time.perf_counter()
    distiset.save_to_disk(os.path.join(out_dir, "dataset"))
    seconds = time.perf_counter() - started
    kept = distiset["default"]["train"]
    cpu = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    print(json.dumps({"samples": len(rows) * n, "rows": len(kept), "seconds": round(seconds, 3), "pipeline_seconds": round(generated - started, 3), "cpu_seconds": round(cpu - cpu_at_start, 3)}))


if __name__ == "__main__":
    main()
