// The traits table of layer_kind.h: one entry per kind, with the Dense ops and the checks only that kind has.
#include "qgnn/converter/layer_kind.h"

#include <cmath>
#include <iterator>
#include <string>
#include <vector>

namespace qgnn {
namespace converter {
namespace {

constexpr uint32_t mask(Reduce r) { return uint32_t{1} << static_cast<uint32_t>(r); }

DenseOp op(DenseSlot slot, size_t index, DenseInput input, std::string what, std::string report_name,
           std::string tensor_name) {
  DenseOp o;
  o.slot = slot;
  o.index = index;
  o.input = input;
  o.what = std::move(what);
  o.report_name = std::move(report_name);
  o.tensor_name = std::move(tensor_name);
  return o;
}

std::string no_check(const LayerDesc&, bool) { return ""; }
std::vector<DenseOp> no_dense(const LayerDesc&) { return {}; }
std::vector<ParameterTensor> no_tensors(const LayerDesc&, bool) { return {}; }

ParameterTensor tensor(std::string name, TensorElement element, size_t elements, size_t scales) {
  ParameterTensor t;
  t.name = std::move(name);
  t.element = element;
  t.elements = elements;
  t.scales = scales;
  return t;
}

std::vector<DenseOp> linear_dense(const LayerDesc&) {
  return {op(DenseSlot::kDense, 0, DenseInput::kLayerInput, "dense", "dense", "")};
}

std::vector<DenseOp> gcn_dense(const LayerDesc& layer) {
  if (layer.order == LayerOrder::kTransformFirst) {
    std::vector<DenseOp> ops = {op(DenseSlot::kDense, 0, DenseInput::kLayerInput, "dense", "dense", "")};
    ops[0].writes_message = true;
    return ops;
  }
  return {op(DenseSlot::kDense, 0, DenseInput::kAggregation, "dense", "dense", "")};
}

// W_neighbor · aggregation + W_root · x: the root Dense adds into the neighbour Dense's accumulator.
// Transform-first: W_neighbor · x onto the messages (their mean then goes through the identity output step,
// which the root Dense joins).
std::vector<DenseOp> sage_dense(const LayerDesc& layer) {
  const bool tf = layer.order == LayerOrder::kTransformFirst;
  std::vector<DenseOp> ops = {op(DenseSlot::kDense, 0,
                                 tf ? DenseInput::kLayerInput : DenseInput::kAggregation, "neighbor dense",
                                 "dense", ".neighbor")};
  ops[0].writes_message = tf;
  if (layer.has_root) {
    ops.push_back(op(DenseSlot::kRoot, 0, DenseInput::kLayerInput, "root dense", "root", ".root"));
    ops.back().joins_previous = true;
  }
  return ops;
}

// The MLP is a chain: aggregation -> mlp[0] -> hidden[0] -> mlp[1] -> ... -> output.
std::vector<DenseOp> gin_dense(const LayerDesc& layer) {
  std::vector<DenseOp> ops;
  for (size_t k = 0; k < layer.mlp.size(); ++k) {
    const std::string i = std::to_string(k);
    ops.push_back(op(DenseSlot::kMlp, k, k == 0 ? DenseInput::kAggregation : DenseInput::kHidden,
                     "mlp[" + i + "]", "mlp" + i, ".mlp." + i));
    ops.back().input_hidden = k == 0 ? -1 : static_cast<int>(k) - 1;
    ops.back().output_hidden = k + 1 < layer.mlp.size() ? static_cast<int>(k) : -1;
  }
  return ops;
}

std::string gin_check(const LayerDesc& layer, bool quantized) {
  if (layer.mlp.empty()) return "GINConv has an empty MLP";
  if (!std::isfinite(layer.eps)) return "GINConv eps is not finite";
  if (quantized && (layer.self_weight_q16 < 0 || layer.self_weight_q16 >= (1 << 23))) {
    return "GINConv self_weight_q16 " + std::to_string(layer.self_weight_q16) + " is outside [0, 2^23)";
  }
  return "";
}

// W of every head onto the messages; the layer's bias follows the attention-weighted sum (output_bias).
std::vector<DenseOp> gat_dense(const LayerDesc&) {
  std::vector<DenseOp> ops = {op(DenseSlot::kDense, 0, DenseInput::kLayerInput, "dense", "dense", "")};
  ops[0].writes_message = true;
  return ops;
}

// a_src and a_dst ([1, heads x head_dim]; int8 sharing one scale, or float), then the optional bias (int32
// at the messages' scale, or float), as the writer stores them.
std::vector<ParameterTensor> gat_tensors(const LayerDesc& layer, bool quantized) {
  std::vector<ParameterTensor> tensors;
  if (quantized) {
    tensors.push_back(tensor(".att_src", TensorElement::kInt8, layer.att_src_q.size(), 1));
    tensors.push_back(tensor(".att_dst", TensorElement::kInt8, layer.att_dst_q.size(), 1));
    if (!layer.output_bias_q.empty())
      tensors.push_back(tensor(".bias", TensorElement::kInt32, layer.output_bias_q.size(), 0));
  } else {
    tensors.push_back(tensor(".att_src", TensorElement::kFloat32, layer.att_src.size(), 0));
    tensors.push_back(tensor(".att_dst", TensorElement::kFloat32, layer.att_dst.size(), 0));
    if (!layer.output_bias.empty())
      tensors.push_back(tensor(".bias", TensorElement::kFloat32, layer.output_bias.size(), 0));
  }
  return tensors;
}

bool all_finite(const std::vector<float>& values) {
  for (float v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Heads, the Dense's shape and the float attention parameters; the quantized fields are checked by
// check_model with the other quantization parameters.
std::string gat_check(const LayerDesc& layer, bool quantized) {
  if (layer.heads < 1 || layer.head_dim < 1) {
    return "GATConv has " + std::to_string(layer.heads) + " heads of " + std::to_string(layer.head_dim) +
           " features (both >= 1)";
  }
  const int64_t cols = int64_t{layer.heads} * layer.head_dim;
  if (cols > kMaxFeatures) return "GATConv has " + std::to_string(cols) + " message features";
  if (cols != layer.dense.out_features) {
    return "GATConv dense has " + std::to_string(layer.dense.out_features) +
           " output features, expected heads x head_dim = " + std::to_string(cols);
  }
  if (!layer.concat && layer.heads > 64) return "GATConv averages at most 64 heads";
  if (!layer.dense.bias.empty() || !layer.dense.bias_q.empty())
    return "GATConv dense has a bias (the layer's bias is output_bias)";
  if (layer.dense.batch_norm) return "GATConv dense has a BatchNorm";
  const size_t out = static_cast<size_t>(layer.concat ? cols : layer.head_dim);
  const size_t n = static_cast<size_t>(cols);
  if (quantized) return "";
  if (layer.att_src.size() != n || layer.att_dst.size() != n) {
    return "GATConv att_src / att_dst have " + std::to_string(layer.att_src.size()) + " / " +
           std::to_string(layer.att_dst.size()) + " values, expected " + std::to_string(n);
  }
  if (!layer.output_bias.empty() && layer.output_bias.size() != out) {
    return "GATConv output_bias has " + std::to_string(layer.output_bias.size()) + " values, expected " +
           std::to_string(out);
  }
  if (!all_finite(layer.att_src) || !all_finite(layer.att_dst) || !all_finite(layer.output_bias))
    return "GATConv has a non-finite attention vector or bias";
  return "";
}

const std::vector<LayerKindTraits>& table() {
  // Fields: kind, name, reduction, weights, aggregation, attention, hidden, root, transform_first,
  // transform_first_keeps_aggregation, reduces, inputs, dense_ops, own_tensors, check.
  static const std::vector<LayerKindTraits> kinds = {
      {LayerKind::kLinear, "Linear", Reduction::kNone, true, false, false, false, false, false, false, 0, 1,
       linear_dense, no_tensors, no_check},
      {LayerKind::kGcnConv, "GCNConv", Reduction::kGcnNormalized, true, true, false, false, false, true,
       false, 0, 1, gcn_dense, no_tensors, no_check},
      {LayerKind::kSageConv, "SAGEConv", Reduction::kNeighbors, true, true, false, false, true, true, true,
       mask(Reduce::kMean) | mask(Reduce::kMax), 1, sage_dense, no_tensors, no_check},
      {LayerKind::kGinConv, "GINConv", Reduction::kNeighborsAndSelf, true, true, false, true, false, false,
       false, 0, 1, gin_dense, no_tensors, gin_check},
      {LayerKind::kGlobalPool, "GlobalPool", Reduction::kGraphNodes, false, false, false, false, false, false,
       false, mask(Reduce::kSum) | mask(Reduce::kMean) | mask(Reduce::kMax), 1, no_dense, no_tensors,
       no_check},
      {LayerKind::kGatConv, "GATConv", Reduction::kAttention, true, false, true, false, false, false, false,
       0, 1, gat_dense, gat_tensors, gat_check},
  };
  return kinds;
}

}  // namespace

const std::vector<LayerKindTraits>& all_layer_kinds() { return table(); }

const LayerKindTraits* find_layer_traits(LayerKind kind) {
  for (const LayerKindTraits& t : table()) {
    if (t.kind == kind) return &t;
  }
  return nullptr;
}

const LayerKindTraits& layer_traits(LayerKind kind) {
  const LayerKindTraits* t = find_layer_traits(kind);
  // Every LayerDesc a pass sees has been through check_model, which rejects unknown kinds; Linear keeps a
  // corrupt kind from being undefined behaviour if a caller skipped it.
  return t ? *t : table().front();
}

const LayerKindTraits* layer_traits_by_name(const std::string& name) {
  for (const LayerKindTraits& t : table()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

DenseDesc& dense_of(LayerDesc& layer, const DenseOp& op) {
  switch (op.slot) {
    case DenseSlot::kRoot:
      return layer.root;
    case DenseSlot::kMlp:
      return layer.mlp[op.index];
    case DenseSlot::kDense:
      break;
  }
  return layer.dense;
}

const DenseDesc& dense_of(const LayerDesc& layer, const DenseOp& op) {
  return dense_of(const_cast<LayerDesc&>(layer), op);
}

bool can_transform_first(const LayerDesc& layer) {
  const LayerKindTraits* t = find_layer_traits(layer.kind);
  // SAGEConv's MAX does not commute with W_n; only its MEAN does.
  return t && t->transform_first && (layer.kind != LayerKind::kSageConv || layer.reduce == Reduce::kMean);
}

LayerOrder cheaper_order(const LayerDesc& layer) {
  return can_transform_first(layer) && layer.dense.out_features < layer.dense.in_features
             ? LayerOrder::kTransformFirst
             : LayerOrder::kAggregateFirst;
}

size_t hidden_count(const LayerDesc& layer) {
  const LayerKindTraits* t = find_layer_traits(layer.kind);
  return t && t->hidden && !layer.mlp.empty() ? layer.mlp.size() - 1 : 0;
}

const char* tensor_element_name(TensorElement element) {
  switch (element) {
    case TensorElement::kFloat32:
      return "FLOAT32";
    case TensorElement::kInt8:
      return "INT8";
    case TensorElement::kInt4:
      return "INT4";
    case TensorElement::kInt32:
      return "INT32";
  }
  return "UNKNOWN";
}

int tensor_element_bits(TensorElement element) {
  switch (element) {
    case TensorElement::kInt8:
      return 8;
    case TensorElement::kInt4:
      return 4;
    case TensorElement::kFloat32:
    case TensorElement::kInt32:
      break;
  }
  return 32;
}

size_t ParameterTensor::bytes() const {
  return (elements * static_cast<size_t>(tensor_element_bits(element)) + 7) / 8;
}

std::vector<ParameterTensor> dense_tensors(const DenseDesc& dense, bool quantized,
                                           const std::string& prefix) {
  std::vector<ParameterTensor> tensors;
  if (quantized) {
    tensors.push_back(tensor(prefix + ".weight",
                             dense.weight_bits == 4 ? TensorElement::kInt4 : TensorElement::kInt8,
                             dense.weight_q.size(), dense.weight_scales.size()));
    if (!dense.bias_q.empty())
      tensors.push_back(tensor(prefix + ".bias", TensorElement::kInt32, dense.bias_q.size(), 0));
  } else {
    tensors.push_back(tensor(prefix + ".weight", TensorElement::kFloat32, dense.weight.size(), 0));
    if (!dense.bias.empty())
      tensors.push_back(tensor(prefix + ".bias", TensorElement::kFloat32, dense.bias.size(), 0));
  }
  return tensors;
}

const char* reduce_name(Reduce reduce) {
  static const char* const kNames[] = {"SUM", "MEAN", "MAX"};
  const auto index = static_cast<size_t>(reduce);
  return index < std::size(kNames) ? kNames[index] : nullptr;
}

int32_t output_features(const LayerDesc& layer, int32_t input_features) {
  const LayerKindTraits* kind = find_layer_traits(layer.kind);
  if (!kind) return input_features;
  const std::vector<DenseOp> ops = kind->dense_ops(layer);
  if (ops.empty()) return input_features;
  // The mean of attention heads narrows the messages' heads x head_dim columns to head_dim.
  if (kind->attention && !layer.concat) return layer.head_dim;
  return dense_of(layer, ops.back()).out_features;
}

std::vector<ParameterTensor> layer_tensors(const LayerDesc& layer, bool quantized) {
  const LayerKindTraits* kind = find_layer_traits(layer.kind);
  if (!kind) return {};
  std::vector<ParameterTensor> tensors;
  for (const DenseOp& op : kind->dense_ops(layer)) {
    for (ParameterTensor& t : dense_tensors(dense_of(layer, op), quantized, op.tensor_name))
      tensors.push_back(std::move(t));
  }
  for (ParameterTensor& t : kind->own_tensors(layer, quantized)) tensors.push_back(std::move(t));
  return tensors;
}

std::vector<LayerActivation> layer_activations(const LayerDesc& layer) {
  std::vector<LayerActivation> activations;
  const auto add = [&activations](ActivationRole role, const QuantParams* quant, int hidden = -1) {
    LayerActivation a;
    a.role = role;
    a.hidden = hidden;
    a.quant = quant;
    activations.push_back(a);
  };
  if (const LayerKindTraits* kind = find_layer_traits(layer.kind)) {
    const bool transform_first = kind->transform_first && layer.order == LayerOrder::kTransformFirst;
    if (kind->attention) {
      add(ActivationRole::kMessage, &layer.message);
      add(ActivationRole::kLogit, &layer.logit);
    } else if (transform_first && !kind->transform_first_keeps_aggregation) {
      add(ActivationRole::kMessage, &layer.aggregation);
    } else if (kind->aggregation) {
      if (transform_first) add(ActivationRole::kMessage, &layer.message);
      add(ActivationRole::kAggregation, &layer.aggregation);
    }
    for (size_t k = 0; k < hidden_count(layer); ++k) {
      add(ActivationRole::kHidden, k < layer.hidden.size() ? &layer.hidden[k] : nullptr, static_cast<int>(k));
    }
  }
  add(ActivationRole::kOutput, &layer.output);
  return activations;
}

bool has_activation(const LayerDesc& layer, ActivationRole role) {
  for (const LayerActivation& a : layer_activations(layer)) {
    if (a.role == role) return true;
  }
  return false;
}

std::vector<const Requant*> layer_requants(const LayerDesc& layer) {
  std::vector<const Requant*> requants = {&layer.aggregation_requant, &layer.pool_requant,
                                          &layer.output_requant, &layer.logit_requant,
                                          &layer.logit_negative_requant};
  if (const LayerKindTraits* kind = find_layer_traits(layer.kind)) {
    for (const DenseOp& op : kind->dense_ops(layer)) requants.push_back(&dense_of(layer, op).requant);
  }
  return requants;
}

size_t layer_table_bytes(const LayerDesc& layer) { return layer.exp_table.size() * sizeof(uint16_t); }

}  // namespace converter
}  // namespace qgnn
