"""Turns a Hugging Face causal-LM checkpoint directory into a complete winnow model directory, in
place or into another directory: generation_config.json with eos = <|im_end|>, the chat template
in tokenizer_config.json, onnx/model.onnx (Optimum, text-generation-with-past), written last.
For trainer commands that only write a Hugging Face checkpoint (e.g. `trl sft --output_dir {out}`).

    export.py --model DIR [--out OUT_DIR] [--template-from BASE_DIR] [--work SCRATCH]

stdout: {"event": "done", "metrics": {"seconds": s}} or {"event": "error", ...}; exit 2 for bad
input, 1 otherwise (as train.py).
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train import InputError, _claim_stdout, check_base, emit, log  # noqa: E402


def main(argv=None):
    _claim_stdout()
    ap = argparse.ArgumentParser(description="Export a Hugging Face checkpoint as a winnow model directory.")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", help="defaults to --model (in place)")
    ap.add_argument("--template-from", help="take the chat template from this directory when the model has none")
    ap.add_argument("--work", help="scratch directory for the export")
    args = ap.parse_args(argv)
    started = time.time()
    try:
        check_base(args.model)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from modeldir import ensure_chat_template, turn_end_id, write_model_dir

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        if not getattr(tokenizer, "chat_template", None) and args.template_from:
            tokenizer.chat_template = AutoTokenizer.from_pretrained(args.template_from).chat_template
        try:
            ensure_chat_template(tokenizer, args.model)
            turn_end_id(tokenizer)
        except ValueError as e:
            raise InputError(f"--model {args.model}: {e}")
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
        files = write_model_dir(model, tokenizer, args.out or args.model, scratch_dir=args.work,
                                source_dir=args.model)
        log(f"exported {', '.join(files)}")
        emit("done", metrics={"seconds": round(time.time() - started, 1)})
        return 0
    except InputError as e:
        log(f"error: {e}")
        emit("error", kind="input", message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        emit("error", kind="internal", message=f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
