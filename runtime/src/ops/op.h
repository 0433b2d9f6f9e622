// Layer ops, split like tflite-micro kernels into three phases:
//   Init    (qgnn_model_create):       verify the layer's fields and resolve its parameters (zero copy);
//   Prepare (qgnn_model_create):       declare the layer's intermediate tensors and their lifetimes;
//   Eval    (qgnn_interpreter_invoke): run the kernels over row ranges, no allocation.
#ifndef QGNN_RUNTIME_OPS_OP_H_
#define QGNN_RUNTIME_OPS_OP_H_

#include <cstddef>
#include <cstdint>

#include "error_reporter.h"
#include "fp32_backend.h"
#include "model.h"
#include "parallel.h"
#include "planner.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"
#include "qgnn/qgnn.h"
#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace runtime {

/// Everything Init needs about the layer and its surroundings.
struct InitContext {
  const fb::Model* model = nullptr;
  bool quantized = false;
  ErrorReporter* reporter = nullptr;
  uint32_t layer_index = 0;
  const char* layer_name = "";
  /// Storage reserved for this layer's Dense ops and GIN hidden quantizations (counted beforehand).
  DenseParams* dense_storage = nullptr;
  uint32_t dense_capacity = 0;
  QParams* hidden_storage = nullptr;
  uint32_t hidden_capacity = 0;

  /// Reports a failure prefixed with the layer's index and name (no prefix for model-level checks, where
  /// `in_layer` is false).
  bool in_layer = true;
  qgnn_status Fail(qgnn_status status, const char* fmt, ...) const
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;
};

/// What Eval sees: the arena, the bound graph and the thread pool.
struct EvalContext {
  uint8_t* arena = nullptr;
  const size_t* offsets = nullptr;
  const void* external_input = nullptr;  ///< caller's features (kExternalTensor)
  kernels::CsrGraph graph{nullptr, nullptr, 0};
  const int32_t* graph_ptr = nullptr;  ///< num_graphs + 1 entries, never NULL during Eval
  int32_t num_nodes = 0;
  int32_t num_graphs = 0;
  bool quantized = false;
  const ThreadPool* pool = nullptr;
  /// Rows of the bound graph cut by edge count (setup), for the aggregation kernels.
  const RowPartition* partition = nullptr;
  /// End of the caller's arena: XNNPACK reads up to xnnpack::kExtraInputBytes past an input, which is
  /// allowed only inside the arena.
  const uint8_t* arena_end = nullptr;
  /// XNNPACK operators of the float Dense ops, or null for the reference FP32 path.
  const XnnDenseSet* xnn_dense = nullptr;
  /// The quantized kernels of the interpreter's ISA (chosen at qgnn_interpreter_create).
  const kernels::KernelTable* kernels = kernels::kernels_for(kernels::Isa::kReference);

  void* Data(int32_t tensor) const {
    return tensor == kExternalTensor ? const_cast<void*>(external_input) : arena + offsets[tensor];
  }
  int32_t Rows(RowKind rows) const { return rows == RowKind::kGraphs ? num_graphs : num_nodes; }
};

struct OpRegistration {
  const char* type_name;
  LayerKind kind;
  /// Verifies the layer's options and resolves them into `params` (out_dim, dense, aggregation fields).
  /// On entry params->{kind, index, name, relu, in_dim, in_q, out_q} are set.
  qgnn_status (*init)(InitContext& ctx, const fb::Layer& layer, LayerParams* params);
  /// Declares intermediate tensors; on entry params->{t_in, rows} are set; sets params->t_out.
  void (*prepare)(PlanBuilder& plan, bool quantized, LayerParams* params);
  /// Runs the layer.
  void (*eval)(const EvalContext& ctx, const LayerParams& params);
};

const OpRegistration* Register_LINEAR();
const OpRegistration* Register_GCN_CONV();
const OpRegistration* Register_SAGE_CONV();
const OpRegistration* Register_GIN_CONV();
const OpRegistration* Register_GLOBAL_POOL();

/// The op of a union type; nullptr for NONE and unknown types.
const OpRegistration* FindOp(fb::LayerOptions type);

// ---- Init helpers (op_common.cc) --------------------------------------------------------------------------

/// Verifies a Dense with `in_features` inputs ("what" names it in messages) and resolves it into `out`.
qgnn_status InitDense(const InitContext& ctx, const fb::Dense* dense, const char* what, int32_t in_features,
                      DenseParams* out);
/// Verifies a QuantParams (presence, bits, zero point, scale).
qgnn_status InitQuantParams(const InitContext& ctx, const fb::QuantParams* q, const char* what, QParams* out);
/// Verifies a Requant with exactly one entry: aggregation or pooling, so shift <= 40 (MEAN adds up to 22).
/// A Dense's requant is verified by InitDense (shift <= 62).
qgnn_status InitSingleRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                              kernels::Rescale* out);
/// Verifies a Reduce enum value and maps it onto the kernels' mode; `allow_sum` is false for SAGEConv (MEAN
/// or MAX only).
qgnn_status InitReduce(const InitContext& ctx, fb::Reduce reduce, bool allow_sum, const char* what,
                       kernels::AggregateMode* mode);
/// Verifies an Activation enum value.
qgnn_status InitActivation(const InitContext& ctx, fb::Activation activation, const char* what, bool* relu);

// ---- Prepare helpers
// ---------------------------------------------------------------------------------------

/// Bytes of one activation row: packed int rows (quantized) or floats.
uint32_t ActivationRowBytes(bool quantized, int32_t cols, int32_t bits);

// ---- Model edges (io.cc) ---------------------------------------------------------------------------------

/// Quantizes (float) or packs (int8) the caller's features into the model's input tensor, when it has one.
void EvalInput(const EvalContext& ctx, const qgnn_model& model, const float* features_f32,
               const int8_t* features_i8);
/// Unpacks int4 logits into the int8 logits tensor, when the model has one.
void EvalLogits(const EvalContext& ctx, const qgnn_model& model);

// ---- Eval helpers (op_common.cc)
// ---------------------------------------------------------------------------

kernels::QActivationConst ConstActivation(const EvalContext& ctx, int32_t tensor, const QParams& q);
kernels::QActivation MutableActivation(const EvalContext& ctx, int32_t tensor, const QParams& q);

/// Quantized Dense over `rows` rows, with an optional extra input (SAGE root).
void RunDense(const EvalContext& ctx, const DenseParams& dense, kernels::QActivationConst in,
              const DenseParams* extra_dense, kernels::QActivationConst extra_in, bool relu,
              kernels::QActivation out, int32_t rows);
#if !defined(QGNN_NO_FLOAT_MODELS)  // integer-only builds (QGNN_FLOAT_MODELS=OFF) have no float execution
/// Float Dense over `rows` rows, with an optional extra input (SAGE root). With XNNPACK, `scratch` (arena
/// memory dead after this call, `scratch_floats` floats, e.g. the SAGE aggregation just consumed) lets the
/// root product run on XNNPACK too; without it the root term is added by a plain loop.
void RunDenseF32(const EvalContext& ctx, const DenseParams& dense, const float* in,
                 const DenseParams* extra_dense, const float* extra_in, bool relu, float* out, int32_t rows,
                 float* scratch = nullptr, size_t scratch_floats = 0);
#endif
/// Quantized aggregation over all nodes, in the chunks of ctx.partition (rows balanced by edge count).
void RunAggregate(const EvalContext& ctx, kernels::AggregateMode mode, kernels::QActivationConst in,
                  int32_t cols, kernels::Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15,
                  kernels::QActivation out);
#if !defined(QGNN_NO_FLOAT_MODELS)
/// Float aggregation over all nodes, in the chunks of ctx.partition.
void RunAggregateF32(const EvalContext& ctx, kernels::AggregateMode mode, const float* in, int32_t cols,
                     float self_weight, float* out);
#endif

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_OP_H_
