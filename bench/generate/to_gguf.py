"""Converts a winnow bench decoder (ONNX, Llama graph with rotary positions) to GGUF F32 with llama.cpp's
own converter, for the llama.cpp peers of the benchmarks.

    to_gguf.py LLAMA_CPP_DIR MODEL_DIR OUT_DIR

LLAMA_CPP_DIR is llama.cpp's source tree (the one vendored in the llama-cpp-python sdist): its
`convert_hf_to_gguf.py` and its own `gguf-py` are used. Steps:
1. The ONNX initializers are written as a Hugging Face LlamaForCausalLM checkpoint
   (`OUT_DIR/hf/model.safetensors`, MatMul weights transposed to Linear's [out, in]) next to the
   model's config and tokenizer files: the GGUF file comes from exactly the ONNX file's weights.
2. `convert_hf_to_gguf.py --outtype f32` writes `model-f32.gguf`.
The quantized files (Q8_0, Q4_0, Q4_K_M) are made from it by llama.cpp's own `llama-quantize`
(bench/generate/llamaCpp.ts `ensureGguf`); an earlier version of this script made Q8_0 and Q4_0
with gguf-py's numpy quantizers instead.
The fixture tokenizer is a byte-level BPE trained here, with GPT-2's pre-tokenizer regex; the
converter recognises pre-tokenizers by hashing a sample's token ids, which no trained-here
vocabulary matches, so the pre-tokenizer name is given as "gpt-2"; and there is no SentencePiece
model, which the converter asks the `sentencepiece` package about before looking for the file, so
that probe answers "no such file" directly (the converter then reads tokenizer.json). The generate
bench feeds token ids; the serve bench checks that llama-server's tokenizer gives the same ids.
"""

import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]


def write_hf_checkpoint(model_dir, hf_dir):
    os.makedirs(hf_dir, exist_ok=True)
    model = onnx.load(os.path.join(model_dir, "onnx", "model.onnx"))
    tensors = {}
    for init in model.graph.initializer:
        name = init.name
        if not (name.startswith("model.") or name == "lm_head.weight"):
            continue
        value = numpy_helper.to_array(init).astype(np.float32)
        if name.endswith("_proj.weight") or name == "lm_head.weight":
            value = value.T
        tensors[name] = np.ascontiguousarray(value)
    del model
    save_file(tensors, os.path.join(hf_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    config.pop("winnow_fixture", None)
    with open(os.path.join(hf_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in TOKENIZER_FILES:
        shutil.copy(os.path.join(model_dir, name), os.path.join(hf_dir, name))
    return len(tensors)


def no_sentencepiece_model(self):
    raise FileNotFoundError("no tokenizer.model: a byte-level BPE (tokenizer.json) model")


def convert(llama_cpp_dir, hf_dir, outfile, outtype):
    sys.path.insert(0, os.path.join(llama_cpp_dir, "gguf-py"))
    sys.path.insert(0, llama_cpp_dir)
    import convert_hf_to_gguf
    from conversion import base

    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
    base.TextModel._set_vocab_sentencepiece = no_sentencepiece_model
    sys.argv = ["convert_hf_to_gguf.py", hf_dir, "--outtype", outtype, "--outfile", outfile]
    convert_hf_to_gguf.main()


def main():
    llama_cpp_dir, model_dir, out_dir = sys.argv[1:4]
    hf_dir = os.path.join(out_dir, "hf")
    count = write_hf_checkpoint(model_dir, hf_dir)
    convert(llama_cpp_dir, hf_dir, os.path.join(out_dir, "model-f32.gguf"), "f32")
    shutil.rmtree(hf_dir)
    print(json.dumps({"tensors": count, "files": sorted(f for f in os.listdir(out_dir) if f.endswith(".gguf"))}))


if __name__ == "__main__":
    main()
