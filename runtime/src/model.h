// The loaded model: pointers into the caller's buffer (zero copy), the layers resolved and checked by
// qgnn_model_create (each layer's op keeps its own parameters in its own data), and the symbolic memory plan
// shared by every interpreter.
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

/// Quantization of one activation: real = scale * (q - zero_point), q of `bits` bits.
struct QParams {
  int32_t bits = 8;
  float scale = 1.0f;
  int32_t zero_point = 0;
};

/// One Dense (y = act(x W^T + b [+ extra])) with its parameters resolved to pointers into the model buffer.
/// Ops keep their Dense ops in their own data; the model lists every one (qgnn_model::denses, by `id`) so an
/// interpreter can attach per-Dense state (packed weights, XNNPACK operators) without knowing the kinds.
struct DenseParams {
  uint32_t id = 0;  ///< index in qgnn_model::denses
  int32_t in_features = 0;
  int32_t out_features = 0;
  /// ReLU on this Dense's result, after the extra term and the BatchNorm. Set by the op that owns it: the
  /// layer's activation on its last Dense, a GIN hidden Dense's own.
  bool relu = false;
  /// A second input whose product is added before the activation, rescaled separately (SAGEConv's root
  /// term, whose input is the layer's input); null when none.
  const DenseParams* extra = nullptr;
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

/// Inputs a layer may list (schema Layer.inputs); an op says how many it takes (qgnn_op::max_inputs).
constexpr uint32_t kMaxLayerInputs = 4;
/// Layer.inputs' name for the model input.
constexpr int32_t kModelInput = -1;

/// What every layer has, whatever its kind; the kind's own parameters live in `data` (the op's layout).
struct Layer {
  const qgnn_op* op = nullptr;
  void* data = nullptr;  ///< the op's parameters: OpFootprint::data_bytes, zeroed, OpDataBlock-aligned
  uint32_t index = 0;
  const char* name = "";
  bool relu = false;  ///< Layer.activation (ops with OpRegistration::has_activation)
  RowKind in_rows = RowKind::kNodes;
  RowKind out_rows = RowKind::kNodes;  ///< set by the op's Init (pooling outputs graphs)
  int32_t in_dim = 0;
  int32_t out_dim = 0;  ///< set by the op's Init
  QParams in_q;         ///< quantization of input 0 (its producer's output, or the model input)
  QParams out_q;        ///< Layer.output
  /// The producers of the layer's inputs (earlier layer indices, kModelInput), Layer.inputs or by default the
  /// previous layer; in_rows / in_dim / in_q / t_in describe input 0, t_inputs every input.
  int32_t inputs[kMaxLayerInputs] = {kModelInput, kModelInput, kModelInput, kModelInput};
  uint32_t num_inputs = 1;
  int32_t t_inputs[kMaxLayerInputs] = {kNoTensor, kNoTensor, kNoTensor, kNoTensor};
  int32_t t_in = kNoTensor;
  int32_t t_out = kNoTensor;  ///< set by the op's Prepare
  /// Set by the op's Init: the Dense that is the only reader of input 0 (RunDenseOnInput), never gathered by
  /// an aggregation, so the model input may be streamed or given sparse into it; null otherwise.
  const DenseParams* input_dense = nullptr;
  /// Set by the op's Init: a second Dense whose weights multiply input 0 in a later step (transform-first
  /// SAGEConv's root term: its own Dense in float models, the extra operand of the output step in quantized
  /// ones, RunDenseWithInputExtra), so the streamed or sparse input is read there again; null otherwise.
  const DenseParams* input_root = nullptr;
};

/// The unit op data is allocated in: 16 bytes with the alignment of the widest scalar an op keeps (8).
/// Not over-aligned on purpose: a plain operator new[] serves it (firmware handle pools provide no
/// aligned new).
struct OpDataBlock {
  uint64_t words[2];
};

struct GraphTensorDef;

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
  /// A float model whose input is read only by plain Dense ops (no BatchNorm, no extra term): it accepts
  /// sparse features and probes dense ones (ops/float/input_dense_f32.cc), gathering into input_scratch.
  bool float_input_sparse = false;
  uint32_t input_dim = 0;
  uint32_t num_classes = 0;
  qgnn::runtime::QParams input_q;
  /// Per-column input scales (input_dim entries, in the model buffer), or nullptr: one scale for every
  /// column (input_q.scale). Float features only read them; int8 features arrive quantized.
  const float* input_column_scales = nullptr;
  qgnn::runtime::QParams output_q;
  size_t parameter_bytes = 0;
  qgnn::runtime::EffectiveLimits limits{0, 0, 0, 0};

  qgnn::runtime::Layer* layers = nullptr;
  uint32_t num_layers = 0;
  /// Every op's data, one allocation of OpDataBlock (layer l's at layers[l].data).
  void* op_data = nullptr;
  /// Every Dense of every op, by DenseParams::id (the DenseParams live in the ops' data).
  const qgnn::runtime::DenseParams** denses = nullptr;
  uint32_t num_denses = 0;
  /// The arena's persistent part: each quantized Dense's packed weights (kernels::dense_packed_bytes_max, so
  /// any ISA fits) at packed_offsets[id]; packed_bytes in all, before the planned tensors. 0 where no
  /// kernel of this build packs (the reference, arm64, float models).
  size_t* packed_offsets = nullptr;
  size_t packed_bytes = 0;
  /// After those: the Dense ops reading a streamed input, packed for sparse features
  /// (kernels::sparse_dense_packed_bytes_max) at sparse_packed_offsets[id] (SIZE_MAX: none), in all
  /// sparse_packed_bytes.
  size_t* sparse_packed_offsets = nullptr;
  size_t sparse_packed_bytes = 0;

  qgnn::runtime::PlannedTensor* tensors = nullptr;
  uint32_t num_tensors = 0;
  uint32_t num_ops = 0;
  /// Quantized input features in the arena; kExternalTensor: the caller's, read in place; kStreamedInput:
  /// quantized chunk by chunk into `input_scratch` by each Dense that reads them. A float model with
  /// float_input_sparse reads them in place and gathers mostly-zero blocks into `input_scratch`.
  int32_t input_tensor = qgnn::runtime::kExternalTensor;
  int32_t input_scratch = qgnn::runtime::kNoTensor;
  int32_t output_tensor = qgnn::runtime::kNoTensor;  ///< last layer's output
  int32_t logits_tensor = qgnn::runtime::kNoTensor;  ///< int8 logits unpacked from int4, if needed
  qgnn::runtime::RowKind output_rows = qgnn::runtime::RowKind::kNodes;
  /// The graph tensors the layers asked for (graph_stage.h): definitions and planned ids.
  const qgnn::runtime::GraphTensorDef* graph_defs[qgnn::runtime::kMaxGraphTensors] = {};
  int32_t graph_tensors[qgnn::runtime::kMaxGraphTensors] = {};
  uint32_t num_graph_tensors = 0;

  ~qgnn_model();
};

#endif  // QGNN_RUNTIME_MODEL_H_
