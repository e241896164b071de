"""Writes the quantized ONNX variants of a bench decoder with ONNX Runtime's own quantizers, next to
its `onnx/model.onnx`, for the llama.cpp comparison of the generate benchmark.

    quantize_onnx.py MODEL_DIR

- `onnx/model_quantized.onnx`: dynamic int8 (`quantize_dynamic`, int8 weights per tensor, only
  MatMuls with a constant weight, MatMulInteger with activations quantized at run time with one
  scale over the whole input tensor, so over every row of the batch), the layout
  of the `model_quantized` files published with Hugging Face ONNX exports.
- `onnx/model_q8.onnx`, `onnx/model_q4.onnx`: MatMulNBits (weight-only, symmetric blocks of 32,
  the block size of GGUF's Q8_0 / Q4_0) with accuracy level 4: activations are quantized to int8
  per block of 32 within each row, as llama.cpp does for its Q8_0 / Q4_0 dot products, so the
  same arithmetic regime on both sides. Every MatMul is quantized, lm_head included; the token
  embedding (a Gather) stays float32.
"""

import json
import os
import shutil
import sys

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

BLOCK = 32


def save(model, path, external):
    partial = path + ".partial"
    data = os.path.basename(path) + "_data"
    onnx.save(model, partial, save_as_external_data=external, all_tensors_to_one_file=True, location=data,
              size_threshold=1024)
    os.replace(partial, path)


def nbits(source, target, bits, external):
    config = DefaultWeightOnlyQuantConfig(block_size=BLOCK, is_symmetric=True, accuracy_level=4, bits=bits)
    quantizer = MatMulNBitsQuantizer(onnx.load(source), bits=bits, block_size=BLOCK, is_symmetric=True,
                                     accuracy_level=4, algo_config=config)
    quantizer.process()
    save(quantizer.model.model, target, external)


def main():
    model_dir = sys.argv[1]
    onnx_dir = os.path.join(model_dir, "onnx")
    source = os.path.join(onnx_dir, "model.onnx")
    external = os.path.exists(source + "_data")
    written = []
    target = os.path.join(onnx_dir, "model_quantized.onnx")
    if not os.path.exists(target):
        staging = os.path.join(onnx_dir, ".staging-quantized")
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        quantize_dynamic(source, os.path.join(staging, "model_quantized.onnx"), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], use_external_data_format=external,
                         extra_options={"MatMulConstBOnly": True})
        for name in sorted(os.listdir(staging), reverse=True):
            os.replace(os.path.join(staging, name), os.path.join(onnx_dir, name))
        os.rmdir(staging)
        written.append(target)
    for bits, name in [(8, "model_q8.onnx"), (4, "model_q4.onnx")]:
        target = os.path.join(onnx_dir, name)
        if not os.path.exists(target):
            nbits(source, target, bits, external)
            written.append(target)
    print(json.dumps({"written": written}))


if __name__ == "__main__":
    main()
