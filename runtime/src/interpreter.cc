// qgnn_arena_size, qgnn_interpreter_create / delete / setup / invoke and the output queries. Heap memory is
// allocated only in qgnn_interpreter_create (the handle, the offsets table, the thread pool and the XNNPACK
// operators of the float path); setup and
// invoke work in the caller's arena.
#include "interpreter.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "checked_math.h"
#include "graph_stage.h"
#include "graph_validation.h"
#include "limits.h"
#include "ops/io.h"
#include "ops/op.h"
#include "planner.h"

namespace qgnn {
namespace runtime {
namespace {

constexpr uint32_t kMaxThreads = 64;

const int8_t* QuantizedLogits(const qgnn_interpreter& in) {
  const qgnn_model& m = *in.model;
  const int32_t tensor = m.logits_tensor != kNoTensor ? m.logits_tensor : m.output_tensor;
  return reinterpret_cast<const int8_t*>(in.arena + in.offsets[tensor]);
}

#if !defined(QGNN_NO_FLOAT_MODELS)  // an integer-only build (QGNN_FLOAT_MODELS=OFF) loads no float model
const float* FloatLogits(const qgnn_interpreter& in) {
  return reinterpret_cast<const float*>(in.arena + in.offsets[in.model->output_tensor]);
}
#endif

// The view of the interpreter the ops and the graph stage run on (valid once a graph is bound).
EvalContext MakeEvalContext(const qgnn_interpreter& in) {
  const qgnn_model& m = *in.model;
  const qgnn_graph& g = in.graph;
  EvalContext ctx;
  ctx.arena = in.arena;
  ctx.offsets = in.offsets;
  ctx.external_input =
      m.input_int8 ? static_cast<const void*>(g.features_i8) : static_cast<const void*>(g.features_f32);
  ctx.input_int8 = m.input_int8;
  ctx.sparse_input = in.sparse_bound ? &in.sparse_rows : nullptr;
  ctx.sparse_packed_weights = in.sparse_packed;
  ctx.input_column_scales = m.input_column_scales;
  ctx.input_scratch = m.input_scratch;
  ctx.input_probe = in.input_probe;
  ctx.graph = qgnn::kernels::CsrGraph{g.row_ptr, g.col_idx, static_cast<int32_t>(g.num_nodes)};
  ctx.graph_ptr = g.graph_ptr;
  ctx.num_nodes = static_cast<int32_t>(g.num_nodes);
  ctx.num_graphs = static_cast<int32_t>(g.num_graphs);
  ctx.pool = &in.pool;
  ctx.partition = &in.partition;
  ctx.kernels = in.kernels;
  ctx.packed_weights = in.packed;
  ctx.arena_end = in.arena_end;
#if !defined(QGNN_NO_FLOAT_MODELS)
  ctx.xnn_dense = in.fp32 == Fp32Backend::kXnnpack ? &in.xnn_dense : nullptr;
#endif
  return ctx;
}

// The caller's options over the defaults: fields past the caller's size keep their defaults (an older
// header), fields past ours are unknown to this runtime and ignored (a newer header).
qgnn_status ReadOptions(const qgnn_interpreter_options* options, ErrorReporter& reporter,
                        qgnn_interpreter_options* out) {
  qgnn_interpreter_options_init(out);
  if (options == nullptr) return QGNN_OK;
  if (options->size < offsetof(qgnn_interpreter_options, num_threads) + sizeof(options->num_threads)) {
    return reporter.Report(
        QGNN_INVALID_ARGUMENT,
        "options->size is %" PRIu32 ": initialise options with qgnn_interpreter_options_init", options->size);
  }
  const size_t copied = options->size < sizeof(*out) ? options->size : sizeof(*out);
  std::memcpy(out, options, copied);
  out->size = sizeof(*out);
  return QGNN_OK;
}

// The kernels are chosen once, at create: the ISA the options name, else the one QGNN_ISA names, else the
// fastest twins this build and CPU run. A name that is unknown or cannot run here is an error, not a silent
// fallback.
qgnn_status SelectKernels(const qgnn_interpreter_options& options, ErrorReporter& reporter,
                          const qgnn::kernels::KernelTable** kernels) {
  const char* isa_source = "isa option";
  const char* isa_override = options.isa;
#if !defined(QGNN_EMBEDDED)  // no environment on bare metal
  if (isa_override == nullptr || isa_override[0] == '\0') {
    isa_source = "QGNN_ISA";
    isa_override = std::getenv("QGNN_ISA");
  }
#endif
  const qgnn::kernels::IsaChoice isa = qgnn::kernels::select_isa(isa_override);
  if (!isa.ok)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "%s=%s: %s", isa_source, isa_override, isa.error);
  *kernels = qgnn::kernels::kernels_for(isa.isa);
  return QGNN_OK;
}

// The persistent part an interpreter on `kernels` needs: the model's packed-weights layout (room for any ISA
// of this build) when those kernels pack some Dense, else nothing (the reference, arm64: plain weights).
size_t DensePackedRegionBytes(const qgnn_model& m, const qgnn::kernels::KernelTable& kernels) {
  if (!m.quantized) return 0;
  for (uint32_t i = 0; i < m.num_denses; ++i) {
    const DenseParams& d = *m.denses[i];
    if (kernels.dense_packed_bytes(d.in_features, d.out_features, d.weights.bits) > 0) return m.packed_bytes;
  }
  return 0;
}

// The same for the sparse-feature packing of the Dense ops reading a streamed input (after the first).
size_t SparsePackedRegionBytes(const qgnn_model& m, const qgnn::kernels::KernelTable& kernels) {
  // A float model's operand has one layout for every ISA, packed wherever the kernel exists.
  if (m.float_input_sparse) return kernels.sparse_dense_f32 != nullptr ? m.sparse_packed_bytes : 0;
  for (uint32_t i = 0; i < m.num_denses; ++i) {
    const DenseParams& d = *m.denses[i];
    if (m.sparse_packed_offsets[i] != ~static_cast<size_t>(0) &&
        kernels.sparse_dense_packed_bytes(d.in_features, d.out_features, d.weights.bits) > 0) {
      return m.sparse_packed_bytes;
    }
  }
  return 0;
}

size_t PackedRegionBytes(const qgnn_model& m, const qgnn::kernels::KernelTable& kernels) {
  return DensePackedRegionBytes(m, kernels) + SparsePackedRegionBytes(m, kernels);
}

// A float model's Dense ops reading the input, packed (W^T) for sparse_dense_f32 into the arena's persistent
// part: used with sparse features and for the blocks of dense features the probe gathers.
qgnn_status PackSparseWeightsF32(const qgnn_model& m, qgnn_interpreter* in) {
#if defined(QGNN_NO_SPARSE_FEATURES) || defined(QGNN_NO_FLOAT_MODELS)
  (void)m, (void)in;
  return QGNN_OK;
#else
  if (SparsePackedRegionBytes(m, *in->kernels) == 0) return QGNN_OK;
  in->sparse_packed = new (std::nothrow) const void*[m.num_denses];
  if (in->sparse_packed == nullptr) return QGNN_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < m.num_denses; ++i) {
    const DenseParams& dense = *m.denses[i];
    in->sparse_packed[i] = nullptr;
    if (m.sparse_packed_offsets[i] == ~static_cast<size_t>(0)) continue;
    void* packed = in->arena + m.sparse_packed_offsets[i];
    qgnn::kernels::sparse_dense_f32_pack(dense.weight_f, dense.in_features, dense.out_features, packed);
    in->sparse_packed[i] = packed;
  }
  return QGNN_OK;
#endif
}

// Packs every quantized Dense's weights once, for the interpreter's kernels, into the arena's persistent part
// (reserved by the model for any ISA: dense_packed_bytes_max). Invoke then never packs.
qgnn_status PackWeights(const qgnn_model& m, qgnn_interpreter* in) {
  if (!m.quantized) return PackSparseWeightsF32(m, in);
  if (m.num_denses == 0) return QGNN_OK;
  in->packed = new (std::nothrow) const void*[m.num_denses];
  if (in->packed == nullptr) return QGNN_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < m.num_denses; ++i) {
    const DenseParams& dense = *m.denses[i];
    in->packed[i] = nullptr;
    if (in->kernels->dense_packed_bytes(dense.in_features, dense.out_features, dense.weights.bits) == 0)
      continue;
    void* packed = in->arena + m.packed_offsets[i];
    in->kernels->dense_pack(dense.weights, dense.in_features, dense.out_features, dense.bias_q, dense.rq,
                            packed);
    in->packed[i] = packed;
  }
  if (SparsePackedRegionBytes(m, *in->kernels) == 0) return QGNN_OK;
  in->sparse_packed = new (std::nothrow) const void*[m.num_denses];
  if (in->sparse_packed == nullptr) return QGNN_OUT_OF_MEMORY;
  uint8_t* region = in->arena + DensePackedRegionBytes(m, *in->kernels);
  for (uint32_t i = 0; i < m.num_denses; ++i) {
    const DenseParams& dense = *m.denses[i];
    in->sparse_packed[i] = nullptr;
    if (m.sparse_packed_offsets[i] == ~static_cast<size_t>(0) ||
        in->kernels->sparse_dense_packed_bytes(dense.in_features, dense.out_features, dense.weights.bits) ==
            0) {
      continue;
    }
    void* packed = region + m.sparse_packed_offsets[i];
    in->kernels->sparse_dense_pack(dense.weights, dense.in_features, dense.out_features, packed);
    in->sparse_packed[i] = packed;
  }
  return QGNN_OK;
}

}  // namespace

qgnn_status PlanModel(const qgnn_model& model, const qgnn_plan_limits& limits, size_t packed_bytes,
                      size_t* offsets, size_t* total, ErrorReporter& reporter) {
  if (limits.max_graphs == 0)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "plan max_graphs is 0 (at least 1)");
  if (limits.max_nodes > model.limits.max_nodes) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED,
                           "plan max_nodes %" PRIu32 " exceeds the model's limit %" PRIu32, limits.max_nodes,
                           model.limits.max_nodes);
  }
  if (limits.max_edges > model.limits.max_edges) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED,
                           "plan max_edges %" PRIu32 " exceeds the model's limit %" PRIu32, limits.max_edges,
                           model.limits.max_edges);
  }
  if (limits.max_graphs > model.limits.max_graphs) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED,
                           "plan max_graphs %" PRIu32 " exceeds the model's limit %" PRIu32,
                           limits.max_graphs, model.limits.max_graphs);
  }
  // The arena: the persistent packed weights first, then the planned activations.
  size_t used = 0;
  const PlanRows rows{limits.max_nodes, limits.max_edges, limits.max_graphs};
  if (!PlanArena(model.tensors, model.num_tensors, rows, offsets, &used) ||
      used > ~static_cast<size_t>(0) - kArenaAlignment - packed_bytes) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED,
                           "the arena for %" PRIu32 " nodes / %" PRIu32 " graphs does not fit in memory",
                           limits.max_nodes, limits.max_graphs);
  }
  for (uint32_t i = 0; i < model.num_tensors; ++i) offsets[i] += packed_bytes;
  *total = packed_bytes + used;
  return QGNN_OK;
}

}  // namespace runtime
}  // namespace qgnn

using qgnn::runtime::ErrorReporter;

extern "C" qgnn_status qgnn_arena_size(const qgnn_model* model, const qgnn_plan_limits* limits, size_t* bytes,
                                       qgnn_error* error) {
  ErrorReporter reporter(error);
  if (model == nullptr || limits == nullptr || bytes == nullptr) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "model, limits and bytes must not be NULL");
  }
  // Room for the packed weights of any ISA this build has, so any options fit.
  size_t offsets[qgnn::runtime::kMaxPlanTensors];  // model->num_tensors <= kMaxPlanTensors (model create)
  size_t total = 0;
  const qgnn_status st = qgnn::runtime::PlanModel(
      *model, *limits, model->packed_bytes + model->sparse_packed_bytes, offsets, &total, reporter);
  if (st != QGNN_OK) return st;
  *bytes = total + qgnn::runtime::kArenaAlignment;
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_arena_size_for_options(const qgnn_model* model, const qgnn_plan_limits* limits,
                                                   const qgnn_interpreter_options* options, size_t* bytes,
                                                   qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (model == nullptr || limits == nullptr || bytes == nullptr) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "model, limits and bytes must not be NULL");
  }
  qgnn_interpreter_options opts;
  qgnn_status st = ReadOptions(options, reporter, &opts);
  if (st != QGNN_OK) return st;
  const qgnn::kernels::KernelTable* kernels = nullptr;
  st = SelectKernels(opts, reporter, &kernels);
  if (st != QGNN_OK) return st;
  size_t offsets[kMaxPlanTensors];
  size_t total = 0;
  st = PlanModel(*model, *limits, PackedRegionBytes(*model, *kernels), offsets, &total, reporter);
  if (st != QGNN_OK) return st;
  *bytes = total + kArenaAlignment;
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_interpreter_create(const qgnn_model* model, const qgnn_plan_limits* limits,
                                               void* arena, size_t arena_bytes,
                                               const qgnn_interpreter_options* options,
                                               qgnn_interpreter** interpreter, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (interpreter == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "interpreter (output) is NULL");
  *interpreter = nullptr;
  if (model == nullptr || limits == nullptr) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "model and limits must not be NULL");
  }
  if (arena == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "arena is NULL");
  qgnn_interpreter_options opts;
  qgnn_status st = ReadOptions(options, reporter, &opts);
  if (st != QGNN_OK) return st;
  const qgnn::kernels::KernelTable* kernels = nullptr;
  st = SelectKernels(opts, reporter, &kernels);
  if (st != QGNN_OK) return st;

  qgnn_interpreter* in = new (std::nothrow) qgnn_interpreter;
  if (in == nullptr) return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the interpreter handle");
  in->offsets = new (std::nothrow) size_t[model->num_tensors > 0 ? model->num_tensors : 1];
  if (in->offsets == nullptr) {
    delete in;
    return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the arena plan");
  }
  size_t total = 0;
  st = PlanModel(*model, *limits, PackedRegionBytes(*model, *kernels), in->offsets, &total, reporter);
  if (st != QGNN_OK) {
    delete in;
    return st;
  }
  // Any arena of at least qgnn_arena_size() (or qgnn_arena_size_for_options() with these options) bytes
  // works, aligned or not: the slack covers the alignment.
  const size_t required = total + kArenaAlignment;
  if (arena_bytes < required) {
    delete in;
    return reporter.Report(QGNN_ARENA_TOO_SMALL, "the arena has %zu bytes, the plan needs %zu", arena_bytes,
                           required);
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(arena);
  const uintptr_t aligned = (base + (kArenaAlignment - 1)) & ~static_cast<uintptr_t>(kArenaAlignment - 1);
  in->arena = static_cast<uint8_t*>(arena) + (aligned - base);
  in->arena_end = static_cast<const uint8_t*>(arena) + arena_bytes;
  in->model = model;
  in->limits = *limits;

  in->kernels = kernels;
  st = PackWeights(*model, in);
  if (st != QGNN_OK) {
    delete in;
    return reporter.Report(st, "out of memory for the packed weights table");
  }

#if !defined(QGNN_EMBEDDED)  // no environment on bare metal: the probe decides by density
  // Tests and benchmarks force one path of the density probe; an unknown value is an error, never ignored.
  const char* probe = std::getenv("QGNN_INPUT_PROBE");
  if (!ParseInputProbe(probe, &in->input_probe)) {
    delete in;
    return reporter.Report(QGNN_INVALID_ARGUMENT, "QGNN_INPUT_PROBE=%s: expected auto, dense or sparse",
                           probe);
  }
#endif

  uint32_t threads = opts.num_threads;
  in->spin_workers = opts.spin_workers != 0;
  if (threads > kMaxThreads) threads = kMaxThreads;
  if (!in->pool.Init(threads)) {
    delete in;
    return reporter.Report(QGNN_OUT_OF_MEMORY, "cannot create a pool of %" PRIu32 " threads", threads);
  }

  // The float path's dense backend, chosen like the ISA: the option, else QGNN_FP32, else XNNPACK where this
  // build and CPU have it. Its operators are created here (they pack the weights) and run on the pool above.
  // An integer-only build has no float path, so it has no backend to choose and ignores the option.
#if !defined(QGNN_NO_FLOAT_MODELS)
  const char* fp32_source = "fp32 option";
  const char* fp32_override = opts.fp32;
#if !defined(QGNN_EMBEDDED)
  if (fp32_override == nullptr || fp32_override[0] == '\0') {
    fp32_source = "QGNN_FP32";
    fp32_override = std::getenv("QGNN_FP32");
  }
#endif
  const Fp32Choice fp32 = SelectFp32Backend(fp32_override);
  if (!fp32.ok) {
    delete in;
    return reporter.Report(QGNN_INVALID_ARGUMENT, "%s=%s: %s", fp32_source, fp32_override, fp32.error);
  }
  in->fp32 = fp32.backend;
  if (fp32.backend == Fp32Backend::kXnnpack) {
    st = in->xnn_dense.Create(*model, reporter);
    if (st != QGNN_OK) {
      delete in;
      return st;
    }
  }
#endif
  *interpreter = in;
  return reporter.Ok();
}

extern "C" void qgnn_interpreter_options_init(qgnn_interpreter_options* options) {
  if (options == nullptr) return;
  const qgnn_interpreter_options defaults = QGNN_INTERPRETER_OPTIONS_INIT;
  *options = defaults;
}

extern "C" void qgnn_interpreter_delete(qgnn_interpreter* interpreter) { delete interpreter; }

namespace qgnn {
namespace runtime {
namespace {

// qgnn_interpreter_setup(_sparse): validates the graph (and the sparse features), binds them and computes the
// graph stage. Nothing stays bound on failure.
qgnn_status Setup(qgnn_interpreter* interpreter, const qgnn_graph* graph, const qgnn_sparse_features* sparse,
                  ErrorReporter& reporter) {
  if (interpreter == nullptr || graph == nullptr) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "interpreter and graph must not be NULL");
  }
  interpreter->bound = false;
  interpreter->sparse_bound = false;
  interpreter->has_output = false;
  const qgnn_model& m = *interpreter->model;
#if defined(QGNN_NO_SPARSE_FEATURES)
  if (sparse != nullptr) {
    return reporter.Report(QGNN_INVALID_ARGUMENT,
                           "this build takes no sparse features (QGNN_SPARSE_FEATURES=OFF)");
  }
#endif
  if (sparse != nullptr && !qgnn_model_accepts_sparse_features(&m)) {
    return reporter.Report(
        QGNN_INVALID_ARGUMENT,
        "this model does not take sparse features (it needs float input read only by Dense "
        "ops: Linear, transform-first GCNConv or transform-first SAGEConv first layers, in a "
        "float model without BatchNorm on them)");
  }
  const GraphBounds bounds{interpreter->limits.max_nodes, interpreter->limits.max_edges,
                           interpreter->limits.max_graphs, m.limits.max_degree};
  const FeatureSpec features{m.input_dim, m.input_int8, m.input_q.bits, sparse != nullptr};
  qgnn_status st = ValidateGraph(*graph, bounds, features, reporter);
#if !defined(QGNN_NO_SPARSE_FEATURES)
  if (st == QGNN_OK && sparse != nullptr) st = ValidateSparseFeatures(*graph, *sparse, m.input_dim, reporter);
#endif
  if (st != QGNN_OK) return st;
  interpreter->graph = *graph;
  if (graph->graph_ptr == nullptr) {
    interpreter->single_graph_ptr[0] = 0;
    interpreter->single_graph_ptr[1] = static_cast<int32_t>(graph->num_nodes);
    interpreter->graph.graph_ptr = interpreter->single_graph_ptr;
  }
  if (sparse != nullptr) {
    interpreter->sparse_rows = qgnn::kernels::SparseRows{sparse->row_ptr, sparse->col_idx, sparse->values};
    interpreter->sparse_bound = true;
  }
  // Aggregation work per row is its in-degree (+ the row itself): cut by that, so a hub does not serialise
  // the thread that owns it. O(chunks log N), into fixed storage.
  PartitionRowsByEdges(graph->row_ptr, static_cast<int32_t>(graph->num_nodes),
                       interpreter->pool.PartitionChunks(), &interpreter->partition);
  // What depends only on the graph is computed here, once, for every invoke on it.
  const EvalContext ctx = MakeEvalContext(*interpreter);
  RunGraphStage(ctx, m);
  interpreter->bound = true;
  return reporter.Ok();
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" qgnn_status qgnn_interpreter_setup(qgnn_interpreter* interpreter, const qgnn_graph* graph,
                                              qgnn_error* error) {
  ErrorReporter reporter(error);
  return qgnn::runtime::Setup(interpreter, graph, nullptr, reporter);
}

extern "C" qgnn_status qgnn_interpreter_setup_sparse(qgnn_interpreter* interpreter, const qgnn_graph* graph,
                                                     const qgnn_sparse_features* features,
                                                     qgnn_error* error) {
  ErrorReporter reporter(error);
  if (features == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "features is NULL");
  return qgnn::runtime::Setup(interpreter, graph, features, reporter);
}

extern "C" qgnn_status qgnn_interpreter_invoke(qgnn_interpreter* interpreter, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (interpreter == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "interpreter is NULL");
  if (!interpreter->bound) {
    return reporter.Report(QGNN_NOT_READY, "invoke needs a successful qgnn_interpreter_setup first");
  }
  const qgnn_model& m = *interpreter->model;
  const qgnn_graph& g = interpreter->graph;
  const EvalContext ctx = MakeEvalContext(*interpreter);

  const Profiler& profiler = interpreter->profiler;
  profiler.Mark(0);
  EvalInput(ctx, m, g.features_f32, g.features_i8);
  profiler.Mark(1);
  for (uint32_t i = 0; i < m.num_layers; ++i) {
    const Layer& layer = m.layers[i];
    // A float model never reaches here in an integer-only build (refused at create), so eval_f32 is set.
    (m.quantized ? layer.op->eval : layer.op->eval_f32)(ctx, layer);
    profiler.Mark(i + 2);
  }
  EvalLogits(ctx, m);
  profiler.Mark(m.num_layers + 2);
  if (!interpreter->spin_workers) interpreter->pool.ReleaseWorkers();

  interpreter->output_rows = static_cast<uint32_t>(ctx.Rows(m.output_rows));
  interpreter->has_output = true;
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_interpreter_set_profiler(qgnn_interpreter* interpreter,
                                                     qgnn_profile_callback callback, void* user_data) {
  if (interpreter == nullptr) return QGNN_INVALID_ARGUMENT;
  interpreter->profiler.callback = callback;
  interpreter->profiler.user_data = callback != nullptr ? user_data : nullptr;
  return QGNN_OK;
}

extern "C" const char* qgnn_interpreter_isa(const qgnn_interpreter* interpreter) {
  return interpreter != nullptr && interpreter->kernels != nullptr ? interpreter->kernels->name : "";
}

extern "C" qgnn_status qgnn_interpreter_output(const qgnn_interpreter* interpreter, qgnn_output* output) {
  if (interpreter == nullptr || output == nullptr) return QGNN_INVALID_ARGUMENT;
  if (!interpreter->has_output) return QGNN_NOT_READY;
  const qgnn_model& m = *interpreter->model;
  output->rows = interpreter->output_rows;
  output->cols = m.num_classes;
  if (m.quantized) {
    output->logits_q = qgnn::runtime::QuantizedLogits(*interpreter);
    output->scale = m.output_q.scale;
    output->zero_point = m.output_q.zero_point;
    output->logits_f32 = nullptr;
  } else {
#if !defined(QGNN_NO_FLOAT_MODELS)
    output->logits_q = nullptr;
    output->scale = 1.0f;
    output->zero_point = 0;
    output->logits_f32 = qgnn::runtime::FloatLogits(*interpreter);
#endif
  }
  return QGNN_OK;
}

extern "C" qgnn_status qgnn_interpreter_output_float(const qgnn_interpreter* interpreter, float* out,
                                                     size_t count) {
  if (interpreter == nullptr) return QGNN_INVALID_ARGUMENT;
  if (!interpreter->has_output) return QGNN_NOT_READY;
  const qgnn_model& m = *interpreter->model;
  const size_t rows = interpreter->output_rows, cols = m.num_classes;
  if (count < rows * cols || (out == nullptr && rows * cols > 0)) return QGNN_INVALID_ARGUMENT;
  if (rows == 0) return QGNN_OK;
  if (m.quantized) {
    const qgnn::kernels::QActivationConst logits{qgnn::runtime::QuantizedLogits(*interpreter), 8,
                                                 m.output_q.zero_point};
    qgnn::kernels::dequantize_rows(logits, static_cast<int32_t>(cols), m.output_q.scale, out, 0,
                                   static_cast<int32_t>(rows));
  } else {
#if !defined(QGNN_NO_FLOAT_MODELS)
    std::memcpy(out, qgnn::runtime::FloatLogits(*interpreter), rows * cols * sizeof(float));
#endif
  }
  return QGNN_OK;
}

extern "C" qgnn_status qgnn_interpreter_argmax(const qgnn_interpreter* interpreter, int32_t* out,
                                               size_t count) {
  if (interpreter == nullptr) return QGNN_INVALID_ARGUMENT;
  if (!interpreter->has_output) return QGNN_NOT_READY;
  const qgnn_model& m = *interpreter->model;
  const size_t rows = interpreter->output_rows;
  if (count < rows || (out == nullptr && rows > 0)) return QGNN_INVALID_ARGUMENT;
  if (rows == 0) return QGNN_OK;
  const int32_t cols = static_cast<int32_t>(m.num_classes);
  if (m.quantized) {
    const qgnn::kernels::QActivationConst logits{qgnn::runtime::QuantizedLogits(*interpreter), 8,
                                                 m.output_q.zero_point};
    qgnn::kernels::argmax_rows(logits, cols, out, 0, static_cast<int32_t>(rows));
  } else {
#if !defined(QGNN_NO_FLOAT_MODELS)
    qgnn::kernels::argmax_rows_f32(qgnn::runtime::FloatLogits(*interpreter), cols, out, 0,
                                   static_cast<int32_t>(rows));
#endif
  }
  return QGNN_OK;
}
