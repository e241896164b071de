"""Writes a winnow model directory: the PyTorch checkpoint at the root (trainable again next round)
plus the Optimum / onnx-community layout winnow's generator loads.

    OUT/config.json, generation_config.json       (eos = <|im_end|>)
    OUT/model.safetensors                         (AutoModelForCausalLM.from_pretrained(OUT))
    OUT/tokenizer.json, tokenizer_config.json     (chat_template inside), special_tokens_map.json
    OUT/onnx/model.onnx [+ model.onnx_data]       (optimum main_export, text-generation-with-past)

`onnx/model.onnx` is written last, by a rename: a directory without it is incomplete.
Shared by trainers/bundled/train.py and bench/selfplay/make_base.py.
"""

import json
import os
import shutil
import sys
import tempfile

END_OF_TURN = "<|im_end|>"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def turn_end_id(tokenizer):
    """The token that ends an assistant turn: <|im_end|> (ChatML) when the vocabulary has it, else
    the tokenizer's eos token."""
    tid = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid < len(tokenizer):
        return tid
    if tokenizer.eos_token_id is not None:
        log(f"the tokenizer has no {END_OF_TURN}; generation stops at its eos token {tokenizer.eos_token!r}")
        return tokenizer.eos_token_id
    raise ValueError(f"the tokenizer has neither {END_OF_TURN} nor an eos token: the model cannot end a turn")


def generation_config(model, tokenizer):
    from transformers import GenerationConfig

    eos = turn_end_id(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    return GenerationConfig(bos_token_id=model.config.bos_token_id, eos_token_id=eos, pad_token_id=pad,
                            do_sample=True, temperature=0.8, top_p=1.0, top_k=0, max_new_tokens=256)


def ensure_chat_template(tokenizer, source_dir=None):
    """Keeps the chat template in tokenizer_config.json (copied from chat_template.jinja when the
    source keeps it there)."""
    if getattr(tokenizer, "chat_template", None):
        return
    if source_dir:
        path = os.path.join(source_dir, "chat_template.jinja")
        if os.path.exists(path):
            with open(path) as f:
                tokenizer.chat_template = f.read()
            return
    raise ValueError("the tokenizer has no chat template")


def _clear_onnx(out_dir):
    onnx_dir = os.path.join(out_dir, "onnx")
    if os.path.isdir(onnx_dir):
        # The completeness marker goes first, so a crash mid-way never leaves an old model.onnx
        # beside new weights.
        marker = os.path.join(onnx_dir, "model.onnx")
        if os.path.exists(marker):
            os.remove(marker)
        shutil.rmtree(onnx_dir)


def write_model_dir(model, tokenizer, out_dir, scratch_dir=None, source_dir=None):
    """Saves `model` + `tokenizer` into `out_dir` and exports ONNX into `out_dir/onnx/`.
    Returns the list of files written under onnx/."""
    from optimum.exporters.onnx import main_export

    ensure_chat_template(tokenizer, source_dir)
    os.makedirs(out_dir, exist_ok=True)
    _clear_onnx(out_dir)
    model = model.to("cpu").float().eval()
    model.generation_config = generation_config(model, tokenizer)
    model.config.eos_token_id = turn_end_id(tokenizer)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir, save_jinja_files=False)
    _readable(out_dir)
    _template_into_config(out_dir, tokenizer.chat_template)
    for stale in ("pytorch_model.bin", "training_args.bin"):
        path = os.path.join(out_dir, stale)
        if os.path.exists(path):
            os.remove(path)
    if scratch_dir:
        os.makedirs(scratch_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_dir, prefix="onnx-export-") as exported:
        main_export(out_dir, output=exported, task="text-generation-with-past", do_validation=False,
                    device="cpu")
        onnx_files = sorted(e for e in os.listdir(exported) if e.endswith(".onnx") or ".onnx_data" in e)
        if "model.onnx" not in onnx_files:
            raise RuntimeError(f"the ONNX export wrote no model.onnx (it wrote {sorted(os.listdir(exported))})")
        staging = os.path.join(out_dir, "onnx")
        os.makedirs(staging)
        # Data files first, model.onnx last: its presence marks a complete directory.
        for entry in [e for e in onnx_files if e != "model.onnx"] + ["model.onnx"]:
            tmp = os.path.join(staging, f".{entry}.partial")
            shutil.copyfile(os.path.join(exported, entry), tmp)
            os.replace(tmp, os.path.join(staging, entry))
    return onnx_files


def _readable(out_dir):
    """safetensors writes model.safetensors with mode 0600; give it the umask's usual mode, so
    another user's worker (or a container) can load the model."""
    umask = os.umask(0)
    os.umask(umask)
    for entry in os.listdir(out_dir):
        path = os.path.join(out_dir, entry)
        if os.path.isfile(path):
            os.chmod(path, 0o666 & ~umask)


def _template_into_config(out_dir, template):
    """transformers 4.57 saves the template into chat_template.jinja; winnow and older readers look
    in tokenizer_config.json, so keep it there (and only there)."""
    path = os.path.join(out_dir, "tokenizer_config.json")
    with open(path) as f:
        config = json.load(f)
    config["chat_template"] = template
    with open(path, "w") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    jinja = os.path.join(out_dir, "chat_template.jinja")
    if os.path.exists(jinja):
        os.remove(jinja)
