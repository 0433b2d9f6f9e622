// What the converter knows about each layer kind, in one place. Every pass (float forward, calibration
// ranges, quantizer, bit SPEC, auto-bits, overflow proof, report, model checks, reader and writer), and the
// tools reading models (qgnn-inspect, qgnn-bench), asks these traits which parts a layer has instead of
// switching on the kind, so a new kind is one traits entry here (layer_kind.cc) plus its genuinely new math:
// its reduction in the float forward and the overflow proof, and its schema table in the reader and writer.
//
// Kinds are spelled as the schema's LayerOptions union members without "Options" ("Linear", "GCNConv",
// "SAGEConv", "GINConv", "GlobalPool", "GATConv"), as the runtime and the Python package spell them.
#ifndef QGNN_CONVERTER_LAYER_KIND_H_
#define QGNN_CONVERTER_LAYER_KIND_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

/// How a layer reduces rows before its Dense ops: what the float forward computes, which requant rescales
/// it, and which accumulators the overflow proof bounds.
enum class Reduction {
  kNone,              ///< no reduction (Linear)
  kGcnNormalized,     ///< sum over in-neighbours and self, symmetric Q15 normalisation, int64 (GCNConv)
  kNeighbors,         ///< LayerDesc::reduce (MEAN or MAX) over in-neighbours (SAGEConv)
  kNeighborsAndSelf,  ///< SUM over in-neighbours plus (1 + eps) * self, eps in Q16 (GINConv)
  kGraphNodes,        ///< LayerDesc::reduce over each graph's nodes, rows become graphs (GlobalPool)
  kAttention,  ///< softmax-weighted sum of the messages over in-neighbours and self, per head (GATConv)
};

/// Where a Dense op of a layer sits in the LayerDesc.
enum class DenseSlot {
  kDense,  ///< LayerDesc::dense (Linear, GCNConv, SAGEConv's neighbour Dense)
  kRoot,   ///< LayerDesc::root (SAGEConv)
  kMlp,    ///< LayerDesc::mlp[index] (GINConv)
};

/// What a Dense op reads.
enum class DenseInput {
  kLayerInput,   ///< the layer's input features
  kAggregation,  ///< the layer's aggregation result
  kHidden,       ///< hidden activation `input_hidden` (the previous MLP Dense's output)
};

/// One Dense op of a layer, in execution (and file) order.
struct DenseOp {
  DenseSlot slot = DenseSlot::kDense;
  size_t index = 0;  ///< mlp index (kMlp)
  DenseInput input = DenseInput::kLayerInput;
  int input_hidden = -1;   ///< kHidden: which hidden activation
  int output_hidden = -1;  ///< the hidden activation it writes; -1: the layer output
  /// Adds into the previous op's accumulator instead of starting its own (SAGEConv's root Dense): it shares
  /// that op's output, requant target and BatchNorm.
  bool joins_previous = false;
  /// Transform-first: writes the layer's messages (without its bias, which is added after the aggregation of
  /// the messages; quantized as LayerDesc::aggregation for GCNConv, LayerDesc::message for SAGEConv), not the
  /// layer output.
  bool writes_message = false;
  std::string what;         ///< in messages: "dense", "neighbor dense", "root dense", "mlp[1]"
  std::string report_name;  ///< in the report, after "<layer>.": "dense", "root", "mlp1"
  std::string tensor_name;  ///< in the file's tensor names, after the layer name: "", ".neighbor", ".mlp.1"
};

/// Element type of a stored parameter tensor (schema TensorType).
enum class TensorElement { kFloat32, kInt8, kInt4, kInt32 };

/// The schema's spelling: "FLOAT32", "INT8", "INT4", "INT32".
const char* tensor_element_name(TensorElement element);
/// Bits per element: 32, 8, 4, 32.
int tensor_element_bits(TensorElement element);

/// One parameter tensor of a layer as the file stores it (a schema Tensor and its Buffer), so that readers of
/// a model (qgnn-inspect, qgnn-bench) can show and count parameters without knowing the layer's kind.
struct ParameterTensor {
  /// In the file's tensor names, after the layer name: ".weight", ".neighbor.bias", ".mlp.1.weight",
  /// ".att_src".
  std::string name;
  TensorElement element = TensorElement::kFloat32;
  size_t elements = 0;
  size_t scales = 0;  ///< scales stored with it: one per output channel (Dense weights) or one (attention)
  /// Bytes of its buffer (int4 packed two per byte).
  size_t bytes() const;
};

/// The weight and, when the Dense has one, the bias of a Dense, in that order, named `prefix` + ".weight" /
/// ".bias" (`prefix` is a DenseOp's tensor_name).
std::vector<ParameterTensor> dense_tensors(const DenseDesc& dense, bool quantized, const std::string& prefix);

/// An activation of a layer that a quantized model stores a QuantParams for (the bits components of
/// docs/quantization.md).
enum class ActivationRole {
  kMessage,      ///< the messages of a transform-first layer or of a GATConv
  kAggregation,  ///< the aggregation result (schema Layer.aggregation)
  kLogit,        ///< the attention logits (GATConv)
  kHidden,       ///< a hidden activation between MLP Dense ops (GINConv)
  kOutput,       ///< the layer output
};

struct LayerActivation {
  ActivationRole role = ActivationRole::kOutput;
  int hidden = -1;  ///< kHidden: which hidden activation
  /// Its quantization in the description (meaningful in quantized models); nullptr when a hidden activation
  /// has none (a description check_model would reject).
  const QuantParams* quant = nullptr;
};

struct LayerKindTraits {
  LayerKind kind;
  const char* name;  ///< canonical spelling: the schema union member without "Options"
  Reduction reduction;
  bool weights;      ///< has Dense ops: SPEC component `w`
  bool aggregation;  ///< message passing: an aggregation activation and its requant, SPEC component `agg`
  /// Attention (GATConv): the messages (LayerDesc::message, SPEC component `agg`) and the attention logits
  /// (LayerDesc::logit, SPEC component `att`), each with a stored range; no Layer.aggregation.
  bool attention;
  bool hidden;  ///< hidden activations between MLP Dense ops, quantized with the `out` bits
  bool root;    ///< an optional root Dense (LayerDesc::has_root)
  /// Can run transform-first (LayerDesc::order): its (neighbour) Dense is linear before its reduction (for
  /// SAGEConv only with MEAN: can_transform_first).
  bool transform_first;
  /// Transform-first: the messages are an activation of their own (LayerDesc::message) beside the
  /// aggregation, the mean of the messages (SAGEConv), rather than taking the aggregation's place (GCNConv:
  /// LayerDesc::aggregation quantizes its messages and the layer has no Layer.aggregation).
  bool transform_first_keeps_aggregation;
  /// LayerDesc::reduce values the kind accepts, as a bit mask of 1 << Reduce; 0 when it has no reduce.
  uint32_t reduces;
  /// How many outputs the layer reads (LayerDesc::inputs lists this many, or none for the previous layer's).
  uint32_t inputs;
  /// The layer's Dense ops in execution order (none for GlobalPool).
  std::vector<DenseOp> (*dense_ops)(const LayerDesc& layer);
  /// The parameter tensors the kind stores besides its Dense ops' weights and biases, in file order (GATConv:
  /// a_src, a_dst and its bias); none for the others.
  std::vector<ParameterTensor> (*own_tensors)(const LayerDesc& layer, bool quantized);
  /// Checks only this kind has (its own scalars); "" when fine. Dense shapes, quantization parameters and
  /// requants of the generic components are checked by check_model from the traits.
  std::string (*check)(const LayerDesc& layer, bool quantized);
};

/// Traits of `kind`; nullptr for a value outside the enum (a corrupt description).
const LayerKindTraits* find_layer_traits(LayerKind kind);
/// Traits of `kind`, which must be valid (check_model has accepted the layer).
const LayerKindTraits& layer_traits(LayerKind kind);
/// Every kind, in enum order.
const std::vector<LayerKindTraits>& all_layer_kinds();
/// Traits by canonical name ("GINConv"); nullptr when no kind is spelled so.
const LayerKindTraits* layer_traits_by_name(const std::string& name);

/// The Dense a DenseOp names.
DenseDesc& dense_of(LayerDesc& layer, const DenseOp& op);
const DenseDesc& dense_of(const LayerDesc& layer, const DenseOp& op);

/// Whether the layer can run transform-first: its kind can (LayerKindTraits::transform_first) and, for
/// SAGEConv, its reduce is MEAN.
bool can_transform_first(const LayerDesc& layer);

/// Transform-first when the layer can (can_transform_first) and its Dense narrows the features (less
/// aggregation work and narrower tensors: docs/quantization.md, "Transform-first GCNConv"), else
/// aggregate-first.
LayerOrder cheaper_order(const LayerDesc& layer);

/// Number of hidden activations of a layer (GINConv: mlp.size() - 1; 0 for the others and an empty MLP).
size_t hidden_count(const LayerDesc& layer);

/// The schema's spelling of a reduce: "SUM", "MEAN", "MAX"; nullptr for a value outside the enum.
const char* reduce_name(Reduce reduce);

/// The columns a layer writes when it reads `input_features` columns: its last Dense op's outputs (SAGEConv's
/// root Dense joins the neighbour Dense), narrowed to head_dim by a mean of attention heads; a layer without
/// Dense ops (GlobalPool) keeps its input's.
int32_t output_features(const LayerDesc& layer, int32_t input_features);

/// Every parameter tensor of the layer in file order: each Dense op's weight and bias, then the kind's own
/// (LayerKindTraits::own_tensors). An unknown kind has none.
std::vector<ParameterTensor> layer_tensors(const LayerDesc& layer, bool quantized);

/// The activations of the layer a quantized model quantizes, in execution order, the output last: from its
/// kind's traits (aggregation, attention, hidden) and its order. An unknown kind has only its output.
std::vector<LayerActivation> layer_activations(const LayerDesc& layer);
/// Whether layer_activations lists `role`.
bool has_activation(const LayerDesc& layer, ActivationRole role);

/// Every Requant of the layer, its Dense ops' included; empty ones are absent from the file.
std::vector<const Requant*> layer_requants(const LayerDesc& layer);

/// Bytes of the lookup tables a quantized layer stores besides its parameters and requants (GATConv's exp
/// table).
size_t layer_table_bytes(const LayerDesc& layer);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_LAYER_KIND_H_
