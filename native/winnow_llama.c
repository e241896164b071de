// winnow's bridge to llama.cpp: a Node-API addon over the prebuilt libllama that node-llama-cpp
// ships. It only runs the model (batched decode of sequences, logits copied out, sequence
// removal); tokenizing, sampling and stopping stay in winnow's TypeScript, so a GGUF generator
// keeps the ONNX generator's sampling, seeding and log-probability contract. Calls block: use it
// from an inference worker thread, like ONNX Runtime's run().
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
#include "ggml-backend.h"

typedef struct {
  struct llama_model *model;
  int64_t kv_bytes_per_token;
  struct llama_context *ctx;
  struct llama_batch batch;
  int32_t n_batch;
  int32_t n_vocab;
} engine_t;

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "winnow_llama: Node-API call failed: " #call); return NULL; } } while (0)

static void quiet_log(enum ggml_log_level level, const char *text, void *data) {
  (void)data;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int backend_ready = 0;

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static void *typed_data(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok) return NULL;
  return data;
}

static int32_t int_property(napi_env env, napi_value object, const char *name, int32_t fallback) {
  napi_value value;
  bool has = false;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return fallback;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return fallback;
  int32_t out = fallback;
  napi_get_value_int32(env, value, &out);
  return out;
}

static void finalize_engine(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  engine_t *engine = (engine_t *)data;
  if (engine->ctx) llama_free(engine->ctx);
  if (engine->model) llama_model_free(engine->model);
  if (engine->batch.token) llama_batch_free(engine->batch);
  free(engine);
}

static engine_t *engine_of(napi_env env, napi_value value) {
  engine_t *engine = NULL;
  if (napi_get_value_external(env, value, (void **)&engine) != napi_ok || !engine || !engine->ctx) return NULL;
  return engine;
}

// The call's arguments, the first one (a path) copied into `path`; false (with a JS error) when they cannot be read.
static bool path_call(napi_env env, napi_callback_info info, size_t count, napi_value *argv, char *path, size_t size) {
  size_t argc = count, len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < count || napi_get_value_string_utf8(env, argv[0], path, size, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "winnow_llama: expected a path and its options");
    return false;
  }
  return true;
}

// F16 keys and values over every layer: what one cached token takes in the context's KV cache.
static int64_t kv_bytes_per_token(const struct llama_model *model) {
  return 2LL * 2LL * llama_model_n_layer(model) * (llama_model_n_embd(model) / llama_model_n_head(model)) * llama_model_n_head_kv(model);
}

// init(libDir): loads ggml's CPU backends from node-llama-cpp's binaries folder, once.
static napi_value init_backend(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char dir[4096];
  if (!path_call(env, info, 1, argv, dir, sizeof dir)) return NULL;
  if (!backend_ready) {
    llama_log_set(quiet_log, NULL);
    ggml_backend_load_all_from_path(dir);
    llama_backend_init();
    backend_ready = 1;
  }
  return NULL;
}

// open(path, {threads, contextTokens, kvMegabytes, sequences, batchTokens}) -> engine (KV cells: contextTokens, fewer if F16 keys and values would pass kvMegabytes)
static napi_value open_engine(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[4096];
  if (!path_call(env, info, 2, argv, path, sizeof path)) return NULL;
  if (!backend_ready) return throw_error(env, "winnow_llama: init(libDir) must come first");
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  struct llama_model *model = llama_model_load_from_file(path, mp);
  if (!model) return throw_error(env, "llama.cpp could not load the GGUF file");
  int32_t threads = int_property(env, argv[1], "threads", 1);
  struct llama_context_params cp = llama_context_default_params();
  int64_t per_token = kv_bytes_per_token(model);
  int64_t by_bytes = per_token > 0 ? (int64_t)int_property(env, argv[1], "kvMegabytes", 512) * 1024 * 1024 / per_token : 4096;
  int64_t wanted = int_property(env, argv[1], "contextTokens", 4096);
  cp.n_ctx = (uint32_t)(wanted < by_bytes ? wanted : by_bytes);
  cp.n_seq_max = (uint32_t)int_property(env, argv[1], "sequences", 64);
  cp.n_batch = (uint32_t)int_property(env, argv[1], "batchTokens", 512);
  cp.n_ubatch = cp.n_batch;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.kv_unified = true;
  cp.no_perf = true;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    llama_model_free(model);
    return throw_error(env, "llama.cpp could not create a context (too many sequences or tokens for memory?)");
  }
  engine_t *engine = (engine_t *)calloc(1, sizeof(engine_t));
  engine->model = model;
  engine->kv_bytes_per_token = per_token;
  engine->ctx = ctx;
  engine->n_batch = (int32_t)cp.n_batch;
  engine->n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  engine->batch = llama_batch_init(engine->n_batch, 0, (int32_t)cp.n_seq_max);
  napi_value external;
  CHECK(napi_create_external(env, engine, finalize_engine, NULL, &external));
  return external;
}

// info(engine) -> {vocab, layers, embd, heads, kvHeads, kvBytesPerToken, trainContext, contextTokens, sequences}
static napi_value engine_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_t *engine = engine_of(env, argv[0]);
  if (!engine) return throw_error(env, "winnow_llama: closed or invalid engine");
  CHECK(napi_create_object(env, &out));
  const struct { const char *name; int32_t value; } fields[] = {
    { "vocab", engine->n_vocab },
    { "layers", llama_model_n_layer(engine->model) },
    { "embd", llama_model_n_embd(engine->model) },
    { "heads", llama_model_n_head(engine->model) },
    { "kvHeads", llama_model_n_head_kv(engine->model) },
    { "kvBytesPerToken", (int32_t)engine->kv_bytes_per_token },
    { "trainContext", llama_model_n_ctx_train(engine->model) },
    { "contextTokens", (int32_t)llama_n_ctx(engine->ctx) },
    { "sequences", (int32_t)llama_n_seq_max(engine->ctx) },
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    CHECK(napi_create_int32(env, fields[i].value, &v));
    CHECK(napi_set_named_property(env, out, fields[i].name, v));
  }
  return out;
}

// decode(engine, tokens, positions, seqStarts, seqIds, outputs, logits) -> rows written.
// Token i belongs to sequences seqIds[seqStarts[i] .. seqStarts[i+1]); where outputs[i] is 1 its
// logits row is copied, in token order, into `logits` (rows × vocab). Splits into n_batch chunks.
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 7, n_tokens, n_pos, n_starts, n_seqs, n_out, n_logits;
  napi_value argv[7], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_t *engine = engine_of(env, argv[0]);
  if (!engine) return throw_error(env, "winnow_llama: closed or invalid engine");
  const int32_t *tokens = (const int32_t *)typed_data(env, argv[1], &n_tokens);
  const int32_t *pos = (const int32_t *)typed_data(env, argv[2], &n_pos);
  const int32_t *starts = (const int32_t *)typed_data(env, argv[3], &n_starts);
  const int32_t *seqs = (const int32_t *)typed_data(env, argv[4], &n_seqs);
  const uint8_t *outputs = (const uint8_t *)typed_data(env, argv[5], &n_out);
  float *logits = (float *)typed_data(env, argv[6], &n_logits);
  if (!tokens || !pos || !starts || !outputs || !logits || n_pos != n_tokens || n_out != n_tokens || n_starts != n_tokens + 1 || (n_seqs > 0 && !seqs)) {
    return throw_error(env, "winnow_llama: decode arguments have mismatched lengths");
  }
  int32_t rows = 0;
  for (size_t first = 0; first < n_tokens; first += (size_t)engine->n_batch) {
    size_t count = n_tokens - first < (size_t)engine->n_batch ? n_tokens - first : (size_t)engine->n_batch;
    struct llama_batch *b = &engine->batch;
    b->n_tokens = (int32_t)count;
    for (size_t j = 0; j < count; j++) {
      size_t i = first + j;
      b->token[j] = tokens[i];
      b->pos[j] = pos[i];
      b->n_seq_id[j] = starts[i + 1] - starts[i];
      for (int32_t s = 0; s < b->n_seq_id[j]; s++) b->seq_id[j][s] = seqs[starts[i] + s];
      b->logits[j] = outputs[i] ? 1 : 0;
    }
    int32_t status = llama_decode(engine->ctx, *b);
    if (status != 0) return throw_error(env, status == 1 ? "llama.cpp found no room in its KV cache for this batch" : "llama.cpp failed to decode the batch");
    for (size_t j = 0; j < count; j++) {
      if (!b->logits[j]) continue;
      if ((size_t)(rows + 1) * (size_t)engine->n_vocab > n_logits) return throw_error(env, "winnow_llama: the logits buffer is too small");
      const float *row = llama_get_logits_ith(engine->ctx, (int32_t)j);
      if (!row) return throw_error(env, "llama.cpp returned no logits for an output token");
      memcpy(logits + (size_t)rows * (size_t)engine->n_vocab, row, sizeof(float) * (size_t)engine->n_vocab);
      rows++;
    }
  }
  CHECK(napi_create_int32(env, rows, &result));
  return result;
}

// forget(engine, seq): drops every cell of sequence `seq` (-1: every sequence).
static napi_value forget(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t seq;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_t *engine = engine_of(env, argv[0]);
  if (!engine) return throw_error(env, "winnow_llama: closed or invalid engine");
  CHECK(napi_get_value_int32(env, argv[1], &seq));
  if (seq < 0) llama_memory_clear(llama_get_memory(engine->ctx), true);
  else llama_memory_seq_rm(llama_get_memory(engine->ctx), seq, -1, -1);
  return NULL;
}

// quantize(input, output, {ftype, pure, threads}): llama.cpp's own quantizer (llama-quantize's), F32/F16 GGUF in, `ftype` GGUF out.
static napi_value quantize(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char input[4096], output[4096];
  size_t len;
  if (!path_call(env, info, 3, argv, input, sizeof input)) return NULL;
  CHECK(napi_get_value_string_utf8(env, argv[1], output, sizeof output, &len));
  if (!backend_ready) return throw_error(env, "winnow_llama: init(libDir) must come first");
  struct llama_model_quantize_params qp = llama_model_quantize_default_params();
  qp.ftype = (enum llama_ftype)int_property(env, argv[2], "ftype", LLAMA_FTYPE_MOSTLY_Q8_0);
  qp.pure = int_property(env, argv[2], "pure", 0) != 0;
  qp.nthread = int_property(env, argv[2], "threads", 1);
  if (llama_model_quantize(input, output, &qp) != 0) return throw_error(env, "llama.cpp could not quantize the GGUF file");
  return NULL;
}

// close(engine): frees the context and model now rather than at garbage collection.
static napi_value close_engine(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_t *engine = engine_of(env, argv[0]);
  if (!engine) return NULL;
  llama_free(engine->ctx);
  llama_model_free(engine->model);
  llama_batch_free(engine->batch);
  engine->ctx = NULL;
  engine->model = NULL;
  engine->batch.token = NULL;
  return NULL;
}

static napi_value module_init(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
    { "init", NULL, init_backend, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, open_engine, NULL, NULL, NULL, napi_default, NULL },
    { "info", NULL, engine_info, NULL, NULL, NULL, napi_default, NULL },
    { "decode", NULL, decode, NULL, NULL, NULL, napi_default, NULL },
    { "forget", NULL, forget, NULL, NULL, NULL, napi_default, NULL },
    { "quantize", NULL, quantize, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, close_engine, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
