"""Loads winnow exports with the real consumers (Hugging Face `datasets`, `pyarrow`) and prints
one JSON object describing what each consumer saw. Used by tests/datasets-exports.test.ts.

usage: python datasets_consumers.py <spec.json>
spec: {"loads": [{"name", "kind": "json"|"parquet"|"repo"|"pyarrow", "path"}],
       "llama_factory": [{"dir", "entry"}]}
"""
import json
import sys

import pyarrow.parquet as pq
from datasets import load_dataset


def plain(value):
    return json.loads(json.dumps(value, default=str))


def describe_dataset(ds):
    return {"rows": ds.num_rows, "columns": ds.column_names, "first": plain(ds[0]) if ds.num_rows else None,
            "features": str(ds.features)}


def main():
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    out = {}
    for load in spec["loads"]:
        kind, path, name = load["kind"], load["path"], load["name"]
        if kind == "pyarrow":
            table = pq.read_table(path)
            meta = pq.read_metadata(path)
            compressions = sorted({meta.row_group(g).column(c).compression
                                   for g in range(meta.num_row_groups) for c in range(meta.num_columns)})
            out[name] = {"rows": table.num_rows, "columns": table.column_names,
                         "first": plain(table.slice(0, 1).to_pylist()[0]) if table.num_rows else None,
                         "compression": compressions}
        elif kind == "repo":
            out[name] = describe_dataset(load_dataset(path, split="train"))
        else:
            out[name] = describe_dataset(load_dataset(kind, data_files=path, split="train"))
    for check in spec.get("llama_factory", []):
        info = json.load(open(f"{check['dir']}/dataset_info.json", encoding="utf-8"))
        entry = info[check["entry"]]
        file_path = f"{check['dir']}/{entry['file_name']}"
        ds = load_dataset("json", data_files=file_path, split="train")
        missing = [column for column in entry["columns"].values() if column not in ds.column_names]
        row = ds[0]
        roles = None
        if entry.get("formatting") == "sharegpt":
            tags = entry["tags"]
            roles = [turn[tags["role_tag"]] for turn in row[entry["columns"]["messages"]]]
            assert all(role in (tags["user_tag"], tags["assistant_tag"]) for role in roles), roles
        out[f"llama_factory:{check['entry']}"] = {"entry": entry, "missing_columns": missing, "rows": ds.num_rows,
                                                  "roles": roles, "first": plain(row)}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
