// The loaded model: pointers into the caller's buffer (zero copy) plus the per-layer parameters resolved
// and checked by qgnn_model_create, and the symbolic memory plan shared by every interpreter.
#ifndef QGNN_RUNTIME_MODEL_H_
#define QGNN_RUNTIME_MODEL_H_

#include <cstddef>
#include <cstdint>

#include "planner.h"
#include "qgnn/kernels/reference.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace fb {
struct Model;
}  // namespace fb

namespace runtime {

struct OpRegistration;

/// Quantization of one activation: real = scale * (q - zero_point), q of `bits` bits.
struct QParams {
  int32_t bits = 8;
  float scale = 1.0f;
  int32_t zero_point = 0;
};

/// One Dense (y = x W^T + b) with its parameters resolved to pointers into the model buffer.
struct DenseParams {
  int32_t in_features = 0;
  int32_t out_features = 0;
  bool relu = false;  ///< activation after this Dense (GIN hidden Dense ops only)
  // Quantized models.
  kernels::QWeights weights{nullptr, 8};
  const int32_t* bias_q = nullptr;
  kernels::ChannelRescale rq{nullptr, nullptr};
  // Float models.
  const float* weight_f = nullptr;
  const float* bias_f = nullptr;
  /// Float models: unfolded BatchNorm (schema Dense.batch_norm) applied after the bias and before the
  /// activation; out_features entries each, read in place from the model buffer. NULL `bn_mean`: none.
  const float* bn_mean = nullptr;
  const float* bn_var = nullptr;
  const float* bn_gamma = nullptr;
  const float* bn_beta = nullptr;
  float bn_eps = 0.0f;
};

enum class LayerKind : uint8_t { kLinear, kGcn, kSage, kGin, kPool };

/// A layer after Init (verification + resolution) and Prepare (tensor ids).
struct LayerParams {
  LayerKind kind = LayerKind::kLinear;
  const OpRegistration* op = nullptr;
  uint32_t index = 0;
  const char* name = "";
  bool relu = false;
  RowKind rows = RowKind::kNodes;  ///< rows of the layer's input (pooling outputs graphs)
  int32_t in_dim = 0;
  int32_t out_dim = 0;
  QParams in_q;   ///< quantization of the input (previous layer's output or the model input)
  QParams out_q;  ///< Layer.output
  QParams agg_q;  ///< Layer.aggregation (message passing)
  kernels::AggregateMode mode = kernels::AggregateMode::kSum;
  kernels::Rescale rq{0, 1};  ///< aggregation_requant, or GlobalPool.requant
  int32_t self_weight_q16 = 0;
  float self_weight_f = 0.0f;
  /// Linear, GCN: [dense]; SAGE: [neighbor] or [neighbor, root]; GIN: the MLP.
  DenseParams* dense = nullptr;
  uint32_t num_dense = 0;
  bool has_root = false;
  const QParams* hidden = nullptr;  ///< GIN: num_dense - 1 hidden quantizations
  // Planned tensors.
  int32_t t_in = kNoTensor;
  int32_t t_norm = kNoTensor;
  int32_t t_agg = kNoTensor;
  int32_t t_hidden = kNoTensor;  ///< first of num_dense - 1 consecutive ids (GIN)
  int32_t t_out = kNoTensor;
};

struct EffectiveLimits {
  uint32_t max_nodes, max_edges, max_degree, max_graphs;
};

}  // namespace runtime
}  // namespace qgnn

/// The opaque C handle.
struct qgnn_model {
  const qgnn::fb::Model* fb = nullptr;
  const char* name = "";
  qgnn_task task = QGNN_TASK_GRAPH_CLASSIFICATION;
  bool quantized = false;
  bool input_int8 = false;
  uint32_t input_dim = 0;
  uint32_t num_classes = 0;
  qgnn::runtime::QParams input_q;
  qgnn::runtime::QParams output_q;
  size_t parameter_bytes = 0;
  qgnn::runtime::EffectiveLimits limits{0, 0, 0, 0};

  qgnn::runtime::LayerParams* layers = nullptr;
  uint32_t num_layers = 0;
  qgnn::runtime::DenseParams* denses = nullptr;
  uint32_t num_denses = 0;
  qgnn::runtime::QParams* hidden = nullptr;
  uint32_t num_hidden = 0;

  qgnn::runtime::PlannedTensor* tensors = nullptr;
  uint32_t num_tensors = 0;
  uint32_t num_ops = 0;
  int32_t input_tensor = qgnn::runtime::kExternalTensor;  ///< quantized input features in the arena
  int32_t output_tensor = qgnn::runtime::kNoTensor;       ///< last layer's output
  int32_t logits_tensor = qgnn::runtime::kNoTensor;       ///< int8 logits unpacked from int4, if needed
  qgnn::runtime::RowKind output_rows = qgnn::runtime::RowKind::kNodes;

  ~qgnn_model() {
    delete[] layers;
    delete[] denses;
    delete[] hidden;
    delete[] tensors;
  }
};

#endif  // QGNN_RUNTIME_MODEL_H_
