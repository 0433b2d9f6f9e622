// Layer ops. One layer kind is one op: a registration (qgnn_op) naming the kind's schema type and giving its
// phases, and the op's own data, laid out by the op. Nothing outside an op's files knows a kind's fields.
// The phases, split like tflite-micro kernels:
//   Footprint (qgnn_model_create):       bytes of the op's data and Dense ops it will resolve, before Init;
//   Init      (qgnn_model_create):       verify the layer's fields and resolve them into the op's data;
//   Prepare   (qgnn_model_create):       declare the op's tensors and their lifetimes;
//   Eval      (qgnn_interpreter_invoke): the integer path, row ranges over the pool, no allocation;
//   EvalF32   (qgnn_interpreter_invoke): the float path, in the op's own file under ops/float/, which an
//                                        integer-only build (QGNN_FLOAT_MODELS=OFF) neither compiles nor
//                                        links.
// An application links the ops it lists in an op resolver (qgnn_model_create_with_ops); qgnn_model_create
// uses the default resolver with every op (default_ops.cc).
#ifndef QGNN_RUNTIME_OPS_OP_H_
#define QGNN_RUNTIME_OPS_OP_H_

#include <cstddef>
#include <cstdint>
#include <new>

#include "error_reporter.h"
#include "input_probe.h"
#include "model.h"
#include "parallel.h"
#include "planner.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"
#include "qgnn/qgnn.h"
#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace runtime {

class XnnDenseSet;

/// What an op needs before Init: the bytes of its data and the number of Dense ops it resolves (each Dense
/// gets an id in qgnn_model::denses). Read from the layer's options only, which the verifier has checked
/// structurally; must not fail (Init reports what is wrong).
struct OpFootprint {
  size_t data_bytes;
  uint32_t denses;
};

/// Everything Init needs about the layer and its surroundings.
struct InitContext {
  const fb::Model* model = nullptr;
  bool quantized = false;
  ErrorReporter* reporter = nullptr;
  uint32_t layer_index = 0;
  const char* layer_name = "";
  /// The model's Dense table and the ids this layer may hand out (its footprint's `denses`).
  const DenseParams** dense_table = nullptr;
  uint32_t next_dense = 0;
  uint32_t dense_end = 0;

  /// Gives `dense` the next id of the model's Dense table (InitDense calls it). False when the op resolves
  /// more Dense ops than its footprint said: a bug in the op, reported as such.
  bool AddDense(DenseParams* dense);

  /// Reports a failure prefixed with the layer's index and name (no prefix for model-level checks, where
  /// `in_layer` is false).
  bool in_layer = true;
#if !defined(QGNN_NO_ERROR_MESSAGES)
  qgnn_status Fail(qgnn_status status, const char* fmt, ...) const
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;
#else  // the status only (error_reporter.h): the messages are never read, so none is compiled in
  template <typename... Args>
  qgnn_status Fail(qgnn_status status, const char*, const Args&...) const {
    return reporter->Report(status, nullptr);
  }
#endif
};

/// What Eval sees: the arena, the bound graph and the thread pool.
struct EvalContext {
  uint8_t* arena = nullptr;
  const size_t* offsets = nullptr;
  const void* external_input = nullptr;  ///< caller's features (kExternalTensor, kStreamedInput)
  /// The streamed input (kStreamedInput): whether the caller's features are int8, the model's per-column
  /// input scales (or null) and the chunks' scratch tensor.
  bool input_int8 = false;
  const float* input_column_scales = nullptr;
  int32_t input_scratch = kNoTensor;
  /// The density probe of dense float input (input_probe.h; QGNN_INPUT_PROBE).
  InputProbe input_probe = InputProbe::kAuto;
  /// Sparse features (qgnn_interpreter_setup_sparse), or null; and by DenseParams::id each input Dense's
  /// weights packed for sparse_dense (null: none packed).
  const kernels::SparseRows* sparse_input = nullptr;
  const void* const* sparse_packed_weights = nullptr;
  kernels::CsrGraph graph{nullptr, nullptr, 0};
  const int32_t* graph_ptr = nullptr;  ///< num_graphs + 1 entries, never NULL during Eval
  int32_t num_nodes = 0;
  int32_t num_graphs = 0;
  const ThreadPool* pool = nullptr;
  /// Rows of the bound graph cut by edge count (setup), for the aggregation kernels.
  const RowPartition* partition = nullptr;
  /// The quantized kernels of the interpreter's ISA (chosen at qgnn_interpreter_create).
  const kernels::KernelTable* kernels = kernels::kernels_for(kernels::Isa::kReference);
  /// By DenseParams::id: each quantized Dense's weights as `kernels` packed them at interpreter creation (in
  /// the arena's persistent part), or null where that ISA runs from the plain weights; null: none packed.
  const void* const* packed_weights = nullptr;
  /// Float path only: end of the caller's arena (XNNPACK reads up to xnnpack::kExtraInputBytes past an
  /// input, which is allowed only inside the arena), and the XNNPACK operators of the float Dense ops, or
  /// null for the reference FP32 path.
  const uint8_t* arena_end = nullptr;
  const XnnDenseSet* xnn_dense = nullptr;

  void* Data(int32_t tensor) const {
    return tensor == kExternalTensor ? const_cast<void*>(external_input) : arena + offsets[tensor];
  }
  int32_t Rows(RowKind rows) const { return rows == RowKind::kGraphs ? num_graphs : num_nodes; }
};

}  // namespace runtime
}  // namespace qgnn

/// One layer kind (the C API's opaque qgnn_op): everything the verifier, planner and interpreter need about
/// it comes from here and from the op's own phases.
struct qgnn_op {
  qgnn::fb::LayerOptions type;  ///< the schema's LayerOptions union member
  const char* name;             ///< the union member's name without "Options", e.g. "GCNConv"
  /// The op reads the graph's nodes (message passing): it cannot follow a layer that pooled them.
  bool needs_node_rows;
  /// The op applies Layer.activation (GlobalPool ignores the field).
  bool has_activation;
  /// How many inputs the op reads (Layer.inputs; at most kMaxLayerInputs): 1 for every kind so far, more for
  /// residual sums or concatenations.
  uint8_t max_inputs;
  /// `model` holds the layer's tensors, whose shapes may size the op's data (unverified: must not fail).
  qgnn::runtime::OpFootprint (*footprint)(const qgnn::fb::Model& model, const qgnn::fb::Layer& layer);
  /// Verifies the layer's options and resolves them into layer->data; sets out_dim (and out_rows when it
  /// differs from in_rows). On entry {op, data, index, name, relu, inputs, num_inputs, in_rows,
  /// out_rows = in_rows, in_dim, in_q, out_q} are set (in_* from input 0's producer).
  qgnn_status (*init)(qgnn::runtime::InitContext& ctx, const qgnn::fb::Layer& layer,
                      qgnn::runtime::Layer* out);
  /// Declares the op's tensors; on entry t_in (= t_inputs[0]) and t_inputs are set; must set t_out.
  void (*prepare)(qgnn::runtime::PlanBuilder& plan, bool quantized, qgnn::runtime::Layer* layer);
  /// Integer execution.
  void (*eval)(const qgnn::runtime::EvalContext& ctx, const qgnn::runtime::Layer& layer);
  /// Float execution; null in integer-only builds, which refuse float models at create.
  void (*eval_f32)(const qgnn::runtime::EvalContext& ctx, const qgnn::runtime::Layer& layer);
};

namespace qgnn {
namespace runtime {

using OpRegistration = ::qgnn_op;

/// The op of `type` among `resolver`'s, or null.
const OpRegistration* FindOp(const qgnn_op_resolver& resolver, fb::LayerOptions type);

/// Bytes rounded up to whole OpDataBlocks, so an op can lay out a struct followed by arrays.
constexpr size_t OpDataAlign(size_t bytes) { return (bytes + 15) & ~static_cast<size_t>(15); }

/// Constructs the op's T (value-initialised) at `data` (Layer::data, or an OpDataAlign'ed offset into it).
template <typename T>
T* NewOpData(void* data) {
  static_assert(alignof(T) <= alignof(OpDataBlock), "op data is aligned for 8-byte scalars at most");
  return new (data) T{};
}

// ---- Init helpers (op_init.cc) ----------------------------------------------------------------------------

/// Verifies a Dense with `in_features` inputs ("what" names it in messages), resolves it into `out` and gives
/// it its id in the model's Dense table.
qgnn_status InitDense(InitContext& ctx, const fb::Dense* dense, const char* what, int32_t in_features,
                      DenseParams* out);
/// Verifies a QuantParams (presence, bits, zero point, scale).
qgnn_status InitQuantParams(const InitContext& ctx, const fb::QuantParams* q, const char* what, QParams* out);
/// Verifies a Requant with exactly one entry: aggregation or pooling, so shift <= 40 (MEAN adds up to 22).
/// A Dense's requant is verified by InitDense (shift <= 62).
qgnn_status InitSingleRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                              kernels::Rescale* out);
/// Verifies a Requant with exactly one entry that rescales a Dense accumulator (shift <= 62), e.g. a
/// transform-first SAGEConv's output_requant.
qgnn_status InitSingleDenseRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                                   kernels::Rescale* out);
/// Verifies a Requant with `channels` entries that rescales int32 accumulators like a Dense's (shift <= 62),
/// one entry per output channel (e.g. GATConv's output_requant).
qgnn_status InitChannelRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                               uint32_t channels, kernels::ChannelRescale* out);
/// Tensor `index` of the model ("what" and "role" name it in messages) and its buffer's bytes (null when
/// empty); an index out of range fails with QGNN_INDEX_OUT_OF_RANGE. Buffer sizes are verified already.
qgnn_status InitTensor(const InitContext& ctx, int32_t index, const char* what, const char* role,
                       const fb::Tensor** tensor, const uint8_t** data);
/// Verifies a Reduce enum value and maps it onto the kernels' mode; `allow_sum` is false for SAGEConv (MEAN
/// or MAX only).
qgnn_status InitReduce(const InitContext& ctx, fb::Reduce reduce, bool allow_sum, const char* what,
                       kernels::AggregateMode* mode);
/// Verifies an Activation enum value.
qgnn_status InitActivation(const InitContext& ctx, fb::Activation activation, const char* what, bool* relu);
/// Verifies a stored range (converter metadata the runtime never uses, but a nonsensical one marks a
/// malformed file): finite with min <= max. Null is fine.
qgnn_status InitRange(const InitContext& ctx, const fb::Range* range, const char* what);

// ---- Prepare helpers --------------------------------------------------------------------------------------

/// Bytes of one activation row: packed int rows (quantized) or floats.
uint32_t ActivationRowBytes(bool quantized, int32_t cols, int32_t bits);

// ---- Integer eval helpers (op_eval.cc) --------------------------------------------------------------------

kernels::QActivationConst ConstActivation(const EvalContext& ctx, int32_t tensor, const QParams& q);
kernels::QActivation MutableActivation(const EvalContext& ctx, int32_t tensor, const QParams& q);

/// Quantized Dense over `rows` rows; `extra_in` is the input of dense.extra (ignored without one).
void RunDense(const EvalContext& ctx, const DenseParams& dense, kernels::QActivationConst in,
              kernels::QActivationConst extra_in, kernels::QActivation out, int32_t rows);
/// Quantized Dense (without an extra input) on the layer's input 0, over `rows` rows. When that is the
/// streamed model input (kStreamedInput), the caller's features are quantized (float) or packed (int8 into
/// int4) kStreamRows rows at a time into the streamed-input scratch and each chunk goes straight through the
/// Dense while it is in cache: the bytes are those of RunDense on a whole quantized copy, which never exists.
/// With sparse features (ctx.sparse_input) the Dense is sparse_dense over the non-zeros instead, same bytes;
/// so is a float chunk the density probe finds mostly zeros (input_probe.h), gathered into the scratch.
void RunDenseOnInput(const EvalContext& ctx, const Layer& layer, kernels::QActivation out, int32_t rows);
/// A Dense whose extra operand (dense.extra) is the layer's input 0, over `rows` rows: RunDense(dense, in,
/// input 0). When input 0 is the streamed model input it is quantized again (packed, or scattered from sparse
/// features) kStreamRows rows at a time into the scratch, as in RunDenseOnInput: transform-first SAGEConv's
/// output step, whose root term reads the input a second time, so no whole quantized copy is ever made.
void RunDenseWithInputExtra(const EvalContext& ctx, const Layer& layer, const DenseParams& dense,
                            kernels::QActivationConst in, kernels::QActivation out, int32_t rows);
/// Rows per chunk and chunks in flight (one per thread, up to this many) of the streamed input: the scratch
/// is kStreamSlots * kStreamRows input rows, whatever the graph size or thread count.
constexpr int32_t kStreamRows = 8;
constexpr int32_t kStreamSlots = 4;
/// Quantized aggregation over all nodes, in the chunks of ctx.partition (rows balanced by edge count).
void RunAggregate(const EvalContext& ctx, const kernels::AggregateParams& params,
                  kernels::QActivationConst in, int32_t cols, kernels::QActivation out);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_OP_H_
