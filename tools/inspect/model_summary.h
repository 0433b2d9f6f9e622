// Everything qgnn-inspect reports about a model, gathered once from a loaded (verified) model.
#ifndef QGNN_TOOLS_INSPECT_MODEL_SUMMARY_H_
#define QGNN_TOOLS_INSPECT_MODEL_SUMMARY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace tools {

/// One Dense (weight + optional bias) inside a layer.
struct DenseSummary {
  uint32_t in_features = 0;
  uint32_t out_features = 0;
  std::string weight_type;  ///< "INT8", "INT4", "FLOAT32"
  std::string bias_type;    ///< "" when the Dense has no bias
  int weight_bits = 0;
  std::string activation;  ///< fused after this Dense (GIN hidden Dense); "NONE" otherwise
  size_t parameter_bytes = 0;
};

/// A GATConv's attention components (docs/quantization.md, "GATConv").
struct AttentionSummary {
  uint32_t heads = 0;
  uint32_t head_dim = 0;
  bool concat = true;       ///< heads concatenated, else averaged
  std::string att_type;     ///< a_src / a_dst: "INT8" (quantized, one shared scale) or "FLOAT32"
  float att_scale = 0.0f;   ///< quantized: the scale a_src and a_dst share
  int logit_bits = 0;       ///< the attention logits' component (8 in a quantized model; 32 float)
  float logit_scale = 0.0f;
  int32_t logit_zero_point = 0;
  /// Quantized: the logit step s the exp table encodes, T[k] = round(2^15 exp(-s k)), read back from the
  /// table (ln(T[0] / T[k]) / k at the largest k with T[k] >= 2^8, where rounding moves it by < 0.5 %);
  /// the converter builds it for s = logit_scale. 0 when the table is flat.
  double exp_table_step = 0.0;
  uint32_t exp_table_entries = 0;
  int alpha_bits = 0;  ///< the softmax weights: 8 (unsigned, the integer kernels' alpha) or 32 float
};

struct LayerSummary {
  std::string name;
  std::string kind;  ///< the kind's canonical name (LayerKindTraits::name): "GCNConv", "GATConv", ...
  uint32_t in_features = 0;
  uint32_t out_features = 0;
  /// Layer.inputs: the layers it reads (-1 the model input); empty = the previous layer.
  std::vector<int32_t> inputs;
  std::string activation;  ///< "NONE" or "RELU"
  std::string reduce;      ///< kinds with a reduce (SAGEConv, GlobalPool): "SUM", "MEAN", "MAX"; "" otherwise
  std::optional<float> eps;  ///< a sum over neighbours plus (1 + eps) times the node itself (GINConv)
  /// Message-passing layers: what runs first, "aggregate" (the aggregation, then the Dense ops) or
  /// "transform" (GCNConv / SAGEConv TRANSFORM_FIRST, and every GATConv: the Dense, then the aggregation of
  /// its messages); "" otherwise.
  std::string first;
  std::vector<DenseSummary> dense;
  /// Bits per component; 0 = the component does not exist for this layer. Float models: 32.
  int aggregation_bits = 0;
  int message_bits = 0;  ///< transform-first layers and GATConv
  int output_bits = 0;
  /// Kinds whose Dense ops form an MLP (GINConv): the bits of its hidden activations.
  std::optional<std::vector<int>> hidden_bits;
  std::optional<AttentionSummary> attention;  ///< attention layers (GATConv)
  size_t parameter_bytes = 0;
};

struct ModelSummary {
  qgnn_model_info info{};
  uint32_t version = 0;
  std::string description;
  std::string producer;
  std::vector<std::string> class_names;
  std::string input_type;  ///< "FLOAT32" or "INT8"
  int input_bits = 0;      ///< 32 for float models
  /// Per-column input scales (docs/quantization.md, "Per-column input scales"); empty: one scale.
  std::vector<float> input_column_scales;
  std::vector<LayerSummary> layers;
};

/// Summarise a model that qgnn_model_create accepted (`data` is the same buffer). The layers are read with
/// the converter's parse_model and described from their kinds' traits (layer_kind.h), so a new kind needs
/// nothing here. Returns false with `error` set if the file holds something the summary cannot describe
/// (parse_model's errors: bad indices, types or buffer sizes), never reading outside the buffer.
bool summarize_model(const void* data, size_t size, const qgnn_model* model, ModelSummary* out,
                     std::string* error);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_INSPECT_MODEL_SUMMARY_H_
