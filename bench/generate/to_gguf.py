"""Converts a winnow bench decoder (ONNX, Llama graph with rotary positions) to GGUF with llama.cpp's
own converter, for the llama.cpp peer of the generate benchmark.

    to_gguf.py LLAMA_CPP_DIR MODEL_DIR OUT_DIR

LLAMA_CPP_DIR is llama.cpp's source tree (the one vendored in the llama-cpp-python sdist): its
`convert_hf_to_gguf.py` and its own `gguf-py` are used. Steps:
1. The ONNX initializers are written as a Hugging Face LlamaForCausalLM checkpoint
   (`OUT_DIR/hf/model.safetensors`, MatMul weights transposed to Linear's [out, in]) next to the
   model's config and tokenizer files: the GGUF files come from exactly the ONNX file's weights.
2. `convert_hf_to_gguf.py` writes `model-f32.gguf` and `model-q8_0.gguf` (--outtype f32 / q8_0).
3. `model-q4_0.gguf`: the same converter with every 2-D weight forced to Q4_0 (its
   `tensor_force_quant` hook, so gguf-py's numpy Q4_0 quantizer, llama.cpp's reference rounding;
   token embedding and lm_head included, like llama-quantize --pure). llama.cpp's C quantizer is
   not reachable: node-llama-cpp does not expose it and llama-cpp-python would need a build.
The fixture tokenizer is a byte-level BPE trained here, with GPT-2's pre-tokenizer regex; the
converter recognises pre-tokenizers by hashing a sample's token ids, which no trained-here
vocabulary matches, so the pre-tokenizer name is given as "gpt-2"; and there is no SentencePiece
model, which the converter asks the `sentencepiece` package about before looking for the file, so
that probe answers "no such file" directly (the converter then reads tokenizer.json). The bench feeds token ids, so
llama.cpp's tokenizer is never used on text.
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


def convert(llama_cpp_dir, hf_dir, outfile, outtype, force_q4_0=False):
    sys.path.insert(0, os.path.join(llama_cpp_dir, "gguf-py"))
    sys.path.insert(0, llama_cpp_dir)
    import gguf
    import convert_hf_to_gguf
    from conversion import base

    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
    base.TextModel._set_vocab_sentencepiece = no_sentencepiece_model
    original_force = base.ModelBase.tensor_force_quant
    original_file_type = gguf.GGUFWriter.add_file_type
    if force_q4_0:
        def force(self, name, new_name, bid, n_dims):
            if n_dims == 2 and not new_name.endswith("_norm.weight"):
                return gguf.GGMLQuantizationType.Q4_0
            return False

        base.ModelBase.tensor_force_quant = force
        gguf.GGUFWriter.add_file_type = lambda self, ftype: original_file_type(self, gguf.LlamaFileType.MOSTLY_Q4_0)
    try:
        sys.argv = ["convert_hf_to_gguf.py", hf_dir, "--outtype", outtype, "--outfile", outfile]
        convert_hf_to_gguf.main()
    finally:
        base.ModelBase.tensor_force_quant = original_force
        gguf.GGUFWriter.add_file_type = original_file_type


def main():
    llama_cpp_dir, model_dir, out_dir = sys.argv[1:4]
    hf_dir = os.path.join(out_dir, "hf")
    count = write_hf_checkpoint(model_dir, hf_dir)
    for outtype, name, q4 in [("f32", "model-f32.gguf", False), ("q8_0", "model-q8_0.gguf", False),
                              ("q8_0", "model-q4_0.gguf", True)]:
        convert(llama_cpp_dir, hf_dir, os.path.join(out_dir, name), outtype, q4)
    shutil.rmtree(hf_dir)
    print(json.dumps({"tensors": count, "files": sorted(f for f in os.listdir(out_dir) if f.endswith(".gguf"))}))


if __name__ == "__main__":
    main()
