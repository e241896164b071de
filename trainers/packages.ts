/**
 * The Python packages of the bundled trainer (`trainers/bundled/train.py`), pinned. The TS side
 * creates the environment with `ensurePythonEnv(TRAINER_PACKAGES)` (trainers/pythonEnv.ts); the
 * self-play benchmark's base-model builder and simulation (bench/selfplay/) run in it too.
 *
 * It extends the export fixtures' list (tests/fixtures/exports/makeExports.ts, EXPORT_PACKAGES)
 * with TRL and its runtime: optimum-onnx 0.1.0 requires transformers < 4.58, and TRL 1.16.0 (the
 * newest release) declares transformers >= 4.56.2, so it fits. datasets 5.x needs
 * huggingface-hub >= 1.0, which transformers 4.57 refuses, hence datasets 4.8.5 and
 * huggingface-hub 0.36.2. tokenizers 0.22.2 is the newest transformers 4.57 accepts.
 * The default Linux torch wheel pulls the CUDA libraries (about 3 GB, about 2.5 minutes to create
 * the environment here); training runs on the CPU and never loads them.
 */
export const TRAINER_PACKAGES = [
  "torch==2.8.0",
  "transformers==4.57.6",
  "optimum-onnx==0.1.0",
  "optimum==2.1.0",
  "onnx==1.19.1",
  "onnxruntime==1.23.2",
  "trl==1.16.0",
  "datasets==4.8.5",
  "accelerate==1.16.0",
  "safetensors==0.8.0",
  "tokenizers==0.22.2",
  "huggingface-hub==0.36.2",
  "numpy==2.4.6"
] as const
