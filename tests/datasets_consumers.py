"""Loads winnow exports with the real consumers (Hugging Face `datasets`, `pyarrow`) and prints
one JSON object describing what each consumer saw. Used by tests/datasets-exports*.test.ts.

usage: python datasets_consumers.py <spec.json>
spec: {"loads": [{"name", "kind": "json"|"parquet"|"repo"|"pyarrow", "path" | "paths"}],
       "llama_factory": [{"dir", "entry"}]}
A "json" or "parquet" load may name several files ("paths"): they load as one dataset, the way
users concatenate exports. A load that raises is reported as {"error": "<type>: <message>"}.
The LLaMA-Factory check reads the folder's dataset_info.json entry and converts every row the way
LLaMA-Factory's dataset converters do (alpaca or sharegpt, plain or `ranking`), counting the rows
they would skip as abnormal.
"""
import json
import sys

import pyarrow.parquet as pq
from datasets import load_dataset


def plain(value):
    return json.loads(json.dumps(value, default=str))


def describe_dataset(ds):
    return {"rows": ds.num_rows, "columns": ds.column_names, "first": plain(ds[0]) if ds.num_rows else None,
            "features": str(ds.features), "ids": sorted(ds["id"]) if "id" in ds.column_names else None}


def root_cause(error):
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"[:800]


def load_one(kind, path):
    if kind == "pyarrow":
        table = pq.read_table(path)
        meta = pq.read_metadata(path)
        compressions = sorted({meta.row_group(g).column(c).compression
                               for g in range(meta.num_row_groups) for c in range(meta.num_columns)})
        return {"rows": table.num_rows, "columns": table.column_names,
                "first": plain(table.slice(0, 1).to_pylist()[0]) if table.num_rows else None,
                "compression": compressions}
    if kind == "repo":
        return describe_dataset(load_dataset(path, split="train"))
    return describe_dataset(load_dataset(kind, data_files=path, split="train"))


def sharegpt_example(entry, row):
    """LLaMA-Factory's sharegpt converter: (prompt, response) or None when it skips the row."""
    columns, tags = entry["columns"], entry.get("tags", {})
    role, content = tags.get("role_tag", "from"), tags.get("content_tag", "value")
    user, assistant = tags.get("user_tag", "human"), tags.get("assistant_tag", "gpt")
    ranking = entry.get("ranking", False)
    messages = row[columns.get("messages", "conversations")]
    for i, message in enumerate(messages):
        if message[role] != (user if i % 2 == 0 else assistant):
            return None
    if (not ranking and len(messages) % 2 != 0) or (ranking and len(messages) % 2 == 0):
        return None
    turns = [{"role": "user" if m[role] == user else "assistant", "content": m[content]} for m in messages]
    if ranking:
        chosen, rejected = row[columns["chosen"]], row[columns["rejected"]]
        if not isinstance(chosen, dict) or not isinstance(rejected, dict):
            return None
        if chosen[role] != assistant or rejected[role] != assistant:
            return None
        return turns, [chosen[content], rejected[content]]
    return turns[:-1], [turns[-1]["content"]]


def alpaca_example(entry, row):
    """LLaMA-Factory's alpaca converter: (prompt, response) or None when it has no response."""
    columns = entry.get("columns", {})
    prompt = []
    history = columns.get("history")
    if history and isinstance(row[history], list):
        for old_prompt, old_response in row[history]:
            prompt += [{"role": "user", "content": old_prompt}, {"role": "assistant", "content": old_response}]
    query = [row[c] for c in (columns.get("prompt", "instruction"), columns.get("query", "input")) if c in row and row[c]]
    prompt.append({"role": "user", "content": "\n".join(query)})
    if entry.get("ranking", False):
        chosen, rejected = row[columns["chosen"]], row[columns["rejected"]]
        if not isinstance(chosen, str) or not isinstance(rejected, str):
            return None
        return prompt, [chosen, rejected]
    response = row.get(columns.get("response", "output"))
    return (prompt, [response]) if isinstance(response, str) else None


def check_llama_factory(check):
    info = json.load(open(f"{check['dir']}/dataset_info.json", encoding="utf-8"))
    entry = info[check["entry"]]
    ds = load_dataset("json", data_files=f"{check['dir']}/{entry['file_name']}", split="train")
    missing = [column for column in entry.get("columns", {}).values() if column not in ds.column_names]
    convert = sharegpt_example if entry.get("formatting") == "sharegpt" else alpaca_example
    examples = [convert(entry, row) for row in ds] if not missing else []
    return {"entry": entry, "missing_columns": missing, "rows": ds.num_rows,
            "broken": sum(1 for example in examples if example is None),
            "examples": [{"prompt": e[0], "response": e[1]} for e in examples if e is not None]}


def main():
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    out = {}
    for load in spec["loads"]:
        try:
            out[load["name"]] = load_one(load["kind"], load.get("paths", load.get("path")))
        except Exception as error:  # what the consumer said is the test's evidence
            out[load["name"]] = {"error": root_cause(error)}
    for check in spec.get("llama_factory", []):
        out[f"llama_factory:{check['entry']}"] = check_llama_factory(check)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
