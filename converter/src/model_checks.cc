// Consistency checks of a ModelDesc before it is written (serialize_model, check_model): the writer
// refuses to produce a model the runtime would reject, and says which layer and field is wrong. Also the
// converter metadata the runtime only verifies: stored ranges (all or nothing, so a converter can use them)
// and unfolded BatchNorm (float models only).
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace {

int32_t bits_min(int bits) { return -(1 << (bits - 1)); }
int32_t bits_max(int bits) { return (1 << (bits - 1)) - 1; }

bool is_positive_finite(float v) { return std::isfinite(v) && v > 0.0f; }

bool all_finite(const std::vector<float>& values) {
  for (float v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

std::string check_quant_params(const QuantParams& q, const std::string& what) {
  if (q.bits != 8 && q.bits != 4) return what + " has " + std::to_string(q.bits) + " bits, expected 4 or 8";
  if (!is_positive_finite(q.scale))
    return what + " scale " + std::to_string(q.scale) + " is not finite and > 0";
  if (q.zero_point < bits_min(q.bits) || q.zero_point > bits_max(q.bits)) {
    return what + " zero point " + std::to_string(q.zero_point) + " is outside the " +
           std::to_string(q.bits) + "-bit range";
  }
  return "";
}

std::string check_batch_norm(const BatchNormDesc& bn, size_t out, const std::string& what) {
  const std::pair<const char*, const std::vector<float>*> vectors[] = {
      {"mean", &bn.mean}, {"var", &bn.var}, {"gamma", &bn.gamma}, {"beta", &bn.beta}};
  for (const auto& v : vectors) {
    if (v.second->size() != out) {
      return what + " batch_norm " + v.first + " has " + std::to_string(v.second->size()) +
             " values, expected " + std::to_string(out);
    }
    if (!all_finite(*v.second)) return what + " batch_norm " + v.first + " has a non-finite value";
  }
  for (size_t c = 0; c < out; ++c) {
    if (bn.var[c] < 0.0f) {
      return what + " batch_norm var[" + std::to_string(c) + "] = " + std::to_string(bn.var[c]) + " is < 0";
    }
  }
  if (!is_positive_finite(bn.eps)) return what + " batch_norm eps " + std::to_string(bn.eps) + " is not > 0";
  return "";
}

// `max_shift`: kDenseRequantShiftMax for a Dense, kAggregationRequantShiftMax for aggregation and pooling.
std::string check_requant(const Requant& r, size_t expected, int32_t max_shift, const std::string& what) {
  if (r.multiplier.size() != expected || r.shift.size() != expected) {
    return what + " has " + std::to_string(r.multiplier.size()) + " multipliers and " +
           std::to_string(r.shift.size()) + " shifts, expected " + std::to_string(expected);
  }
  for (size_t i = 0; i < expected; ++i) {
    if (r.multiplier[i] < kRequantMultiplierMin) {
      return what + " multiplier[" + std::to_string(i) + "] = " + std::to_string(r.multiplier[i]) +
             " is outside [2^30, 2^31 - 1]";
    }
    if (r.shift[i] < kRequantShiftMin || r.shift[i] > max_shift) {
      return what + " shift[" + std::to_string(i) + "] = " + std::to_string(r.shift[i]) + " is outside [" +
             std::to_string(kRequantShiftMin) + ", " + std::to_string(max_shift) + "]";
    }
  }
  return "";
}

std::string check_dense(const DenseDesc& d, int32_t in_features, bool quantized, const std::string& what) {
  if (d.out_features <= 0 || d.out_features > kMaxFeatures) {
    return what + " has " + std::to_string(d.out_features) + " output features, expected 1.." +
           std::to_string(kMaxFeatures);
  }
  if (d.in_features != in_features) {
    return what + " has " + std::to_string(d.in_features) + " input features, expected " +
           std::to_string(in_features);
  }
  const size_t out = static_cast<size_t>(d.out_features);
  const size_t count = out * static_cast<size_t>(d.in_features);
  if (d.batch_norm) {
    // Quantized Dense ops are integer-only: their BatchNorm must be folded before quantization.
    if (quantized) return what + " has a BatchNorm in a quantized model (fold it before quantizing)";
    const std::string e = check_batch_norm(*d.batch_norm, out, what);
    if (!e.empty()) return e;
  }
  if (!quantized) {
    if (d.weight.size() != count) {
      return what + " weight has " + std::to_string(d.weight.size()) + " values, expected " +
             std::to_string(count);
    }
    if (!d.bias.empty() && d.bias.size() != out) {
      return what + " bias has " + std::to_string(d.bias.size()) + " values, expected " + std::to_string(out);
    }
    if (!all_finite(d.weight) || !all_finite(d.bias)) return what + " has a non-finite weight or bias";
    return "";
  }
  if (d.weight_bits != 8 && d.weight_bits != 4) {
    return what + " weight has " + std::to_string(d.weight_bits) + " bits, expected 4 or 8";
  }
  if (d.weight_q.size() != count) {
    return what + " weight has " + std::to_string(d.weight_q.size()) + " values, expected " +
           std::to_string(count);
  }
  // Weights are symmetric: [-127, 127] or [-7, 7] (docs/format.md, "Tensors and packing").
  for (int8_t q : d.weight_q) {
    if (q < -bits_max(d.weight_bits) || q > bits_max(d.weight_bits)) {
      return what + " weight value " + std::to_string(q) + " is outside the symmetric " +
             std::to_string(d.weight_bits) + "-bit range";
    }
  }
  if (d.weight_scales.size() != out) {
    return what + " has " + std::to_string(d.weight_scales.size()) + " weight scales, expected " +
           std::to_string(out);
  }
  for (float s : d.weight_scales) {
    if (!is_positive_finite(s)) return what + " weight scale " + std::to_string(s) + " is not finite and > 0";
  }
  if (!d.bias_q.empty() && d.bias_q.size() != out) {
    return what + " bias has " + std::to_string(d.bias_q.size()) + " values, expected " + std::to_string(out);
  }
  for (int32_t b : d.bias_q) {
    if (b <= -kMaxBiasMagnitude || b >= kMaxBiasMagnitude) {
      return what + " bias value " + std::to_string(b) + " is outside (-2^30, 2^30)";
    }
  }
  return check_requant(d.requant, out, kDenseRequantShiftMax, what + " requant");
}

std::string check_aggregation(const LayerDesc& layer, const std::string& label) {
  std::string e = check_quant_params(layer.aggregation, label + ": aggregation");
  if (e.empty())
    e = check_requant(layer.aggregation_requant, 1, kAggregationRequantShiftMax,
                      label + ": aggregation requant");
  return e;
}

// A transform-first SAGEConv has a message component besides its aggregation (and an output requant).
bool sage_transform_first(const LayerDesc& layer) {
  return layer.kind == LayerKind::kSageConv && layer.order == LayerOrder::kTransformFirst;
}

// GATConv's quantized fields (docs/format.md, GATConvOptions): what the runtime's Init verifies.
std::string check_attention(const LayerDesc& layer, const std::string& label) {
  std::string e = check_quant_params(layer.message, label + ": message");
  if (e.empty()) e = check_quant_params(layer.logit, label + ": logit");
  if (!e.empty()) return e;
  const size_t n = static_cast<size_t>(layer.heads) * static_cast<size_t>(layer.head_dim);
  if (layer.att_src_q.size() != n || layer.att_dst_q.size() != n) {
    return label + ": att_src / att_dst have " + std::to_string(layer.att_src_q.size()) + " / " +
           std::to_string(layer.att_dst_q.size()) + " values, expected " + std::to_string(n);
  }
  if (!is_positive_finite(layer.att_scale))
    return label + ": attention scale " + std::to_string(layer.att_scale) + " is not finite and > 0";
  const size_t out = layer.concat ? n : static_cast<size_t>(layer.head_dim);
  if (!layer.output_bias_q.empty() && layer.output_bias_q.size() != out) {
    return label + ": output bias has " + std::to_string(layer.output_bias_q.size()) + " values, expected " +
           std::to_string(out);
  }
  for (int32_t b : layer.output_bias_q) {
    if (b <= -kMaxBiasMagnitude || b >= kMaxBiasMagnitude)
      return label + ": output bias value " + std::to_string(b) + " is outside (-2^30, 2^30)";
  }
  e = check_requant(layer.logit_requant, 1, kDenseRequantShiftMax, label + ": logit requant");
  if (e.empty())
    e = check_requant(layer.logit_negative_requant, 1, kDenseRequantShiftMax,
                      label + ": negative logit requant");
  if (e.empty())
    e = check_requant(layer.output_requant, out, kDenseRequantShiftMax, label + ": output requant");
  if (!e.empty()) return e;
  if (layer.exp_table.size() != 256 || layer.exp_table[0] != 32768) {
    return label + ": the exp table needs 256 entries starting with 32768 (it has " +
           std::to_string(layer.exp_table.size()) + ")";
  }
  for (size_t k = 1; k < layer.exp_table.size(); ++k) {
    if (layer.exp_table[k] > layer.exp_table[k - 1])
      return label + ": exp table entry " + std::to_string(k) + " exceeds the one before";
  }
  return "";
}

// "MEAN or MAX" for a LayerKindTraits::reduces mask.
std::string reduce_names(uint32_t mask) {
  std::string names;
  for (uint32_t r = 0; const char* name = reduce_name(static_cast<Reduce>(r)); ++r) {
    if (mask & (uint32_t{1} << r)) names += (names.empty() ? "" : " or ") + std::string(name);
  }
  return names;
}

// Checks one layer consuming `*features` columns (its input's) and updates it to the layer's output columns.
// What a layer holds comes from its kind's traits; only the kind's own scalars are checked by the traits'
// `check`.
std::string check_layer(const LayerDesc& layer, bool quantized, const std::string& label, int32_t* features) {
  const LayerKindTraits* kind = find_layer_traits(layer.kind);
  if (!kind) return label + ": unknown layer kind";
  const uint32_t reduce = uint32_t{1} << static_cast<uint32_t>(layer.reduce);
  if (kind->reduces != 0 && !(kind->reduces & reduce))
    return label + ": " + kind->name + " reduce must be " + reduce_names(kind->reduces);
  // A root Dense on a kind without one would be silently dropped by the writer.
  if (layer.has_root && !kind->root) return label + ": " + kind->name + " has no root dense";
  std::string e = kind->check(layer, quantized);
  if (!e.empty()) return label + ": " + e;
  if (layer.order == LayerOrder::kTransformFirst) {
    if (!kind->transform_first) return label + ": " + kind->name + " cannot run transform-first";
    if (!can_transform_first(layer))
      return label + ": " + kind->name +
             " runs transform-first with MEAN only (max does not commute with W_n)";
    // BatchNorm's shift does not commute with the aggregation: it must be folded first.
    if (layer.dense.batch_norm) return label + ": transform-first with an unfolded BatchNorm (fold it first)";
  } else if (layer.order != LayerOrder::kAggregateFirst) {
    return label + ": unknown order " + std::to_string(static_cast<int>(layer.order));
  }
  const std::vector<DenseOp> ops = kind->dense_ops(layer);
  int32_t columns = *features;
  for (size_t i = 0; i < ops.size(); ++i) {
    const DenseOp& op = ops[i];
    const DenseDesc& d = dense_of(layer, op);
    const bool joins = op.joins_previous && i > 0;
    // One BatchNorm normalises the whole sum: it lives on the Dense the others join.
    if (joins && d.batch_norm)
      return label + ": " + op.what + " has a BatchNorm (only the " + ops[i - 1].what + " may)";
    // The layer input and the aggregation have the input's columns; a hidden activation its writer's.
    const int32_t in_features = op.input == DenseInput::kHidden ? columns : *features;
    e = check_dense(d, in_features, quantized, label + ": " + op.what);
    if (!e.empty()) return e;
    if (joins && d.out_features != columns) {
      return label + ": " + op.what + " has " + std::to_string(d.out_features) + " output features, " +
             ops[i - 1].what + " has " + std::to_string(columns);
    }
    columns = d.out_features;
  }
  if (quantized) {
    if (kind->hidden && layer.hidden.size() != hidden_count(layer)) {
      return label + ": " + kind->name + " has " + std::to_string(layer.hidden.size()) +
             " hidden quantizations, expected " + std::to_string(hidden_count(layer));
    }
    for (size_t k = 0; k < layer.hidden.size() && e.empty(); ++k) {
      e = check_quant_params(layer.hidden[k], label + ": hidden[" + std::to_string(k) + "]");
    }
    if (e.empty() && kind->aggregation) e = check_aggregation(layer, label);
    if (e.empty() && sage_transform_first(layer)) {
      e = check_quant_params(layer.message, label + ": message");
      if (e.empty())
        e = check_requant(layer.output_requant, 1, kDenseRequantShiftMax, label + ": output requant");
    }
    if (e.empty() && kind->attention) e = check_attention(layer, label);
    if (e.empty() && kind->reduction == Reduction::kGraphNodes)
      e = check_requant(layer.pool_requant, 1, kAggregationRequantShiftMax, label + ": pool requant");
    if (e.empty()) e = check_quant_params(layer.output, label + ": output");
  }
  if (e.empty()) *features = output_features(layer, *features);
  return e;
}

bool any_stored_range(const ModelDesc& model) {
  if (model.input_range) return true;
  for (const LayerDesc& layer : model.layers) {
    if (layer.output_range || layer.aggregation_range || layer.message_range || layer.logit_range ||
        !layer.hidden_ranges.empty())
      return true;
  }
  return false;
}

std::string check_range(const std::optional<StoredRange>& r, const std::string& what) {
  if (!r) return what + " range is missing (a model stores the ranges of every activation or of none)";
  if (!std::isfinite(r->min) || !std::isfinite(r->max)) return what + " range is not finite";
  if (r->min > r->max) {
    return what + " range [" + std::to_string(r->min) + ", " + std::to_string(r->max) + "] has min > max";
  }
  return "";
}

// Stored ranges are all or nothing: a converter quantizing with them needs one per activation.
std::string check_stored_ranges(const ModelDesc& model) {
  if (!any_stored_range(model)) return "";
  std::string e = check_range(model.input_range, "input");
  for (size_t i = 0; i < model.layers.size() && e.empty(); ++i) {
    const LayerDesc& layer = model.layers[i];
    const std::string label = "layer " + std::to_string(i) + " (" + layer.name + ")";
    e = check_range(layer.output_range, label + ": output");
    if (!e.empty()) break;
    const LayerKindTraits& kind = layer_traits(layer.kind);
    if (kind.aggregation) {
      e = check_range(layer.aggregation_range, label + ": aggregation");
    } else if (layer.aggregation_range) {
      e = label + ": an aggregation range on a layer without aggregation";
    }
    if (e.empty() && (sage_transform_first(layer) || kind.attention))
      e = check_range(layer.message_range, label + ": message");
    if (e.empty() && kind.attention) e = check_range(layer.logit_range, label + ": logit");
    const size_t hidden = hidden_count(layer);
    if (e.empty() && layer.hidden_ranges.size() != hidden) {
      e = label + ": " + std::to_string(layer.hidden_ranges.size()) + " hidden ranges, expected " +
          std::to_string(hidden);
    }
    for (size_t k = 0; k < layer.hidden_ranges.size() && e.empty(); ++k) {
      e = check_range(layer.hidden_ranges[k], label + ": hidden[" + std::to_string(k) + "]");
    }
  }
  return e;
}

// What a layer can read: the model input or a layer's output.
struct Output {
  int32_t features = 0;
  bool graph_rows = false;  ///< one row per graph (pooled), not per node
};

std::string output_name(const ModelDesc& model, int32_t index) {
  if (index == kModelInput) return "the model input";
  return "layer " + std::to_string(index) + " (" + model.layers[static_cast<size_t>(index)].name + ")";
}

// Layer `i`'s declared inputs (each an earlier output, as many as the kind reads) and the rows of the one it
// reads: message passing and pooling read the graph's nodes, so they cannot read a pooled output, and a node
// classification model never pools (its output has one row per node). On success `*in` is what it reads.
std::string check_dataflow(const ModelDesc& model, size_t i, const std::vector<Output>& outputs,
                           const std::string& label, Output* in) {
  const LayerDesc& layer = model.layers[i];
  const LayerKindTraits* kind = find_layer_traits(layer.kind);
  if (!kind) return label + ": unknown layer kind";
  if (!layer.inputs.empty() && layer.inputs.size() != kind->inputs) {
    return label + ": " + kind->name + " reads " + std::to_string(kind->inputs) + " input, " +
           std::to_string(layer.inputs.size()) + " listed";
  }
  for (int32_t j : layer.inputs) {
    if (j < kModelInput || j >= static_cast<int32_t>(i)) {
      return label + ": input " + std::to_string(j) + " is neither the model input (-1) nor an earlier layer";
    }
  }
  const int32_t source = input_of(model, i);
  *in = outputs[static_cast<size_t>(source + 1)];
  if (kind->reduction == Reduction::kGraphNodes && model.task == Task::kNodeClassification)
    return label + ": a node classification model cannot pool";
  if (kind->reduction != Reduction::kNone && in->graph_rows) {
    const std::string rows = output_name(model, source) + " has one row per graph, not per node";
    if (kind->reduction == Reduction::kGraphNodes)
      return label + ": a model pools at most once (" + rows + ")";
    return label + ": message passing after the global pooling (" + rows + ")";
  }
  return "";
}

// A quantized mean of H > 1 attention heads needs a declared degree limit that its int32 sum covers.
std::string check_mean_heads(const ModelDesc& model, const LayerDesc& layer, const std::string& label) {
  if (!model.quantized || !layer_traits(layer.kind).attention || layer.concat || layer.heads < 2) return "";
  const uint32_t bound = gat_mean_max_degree(layer.heads);
  if (model.limits.max_degree == 0 || model.limits.max_degree > bound) {
    return label + ": the mean of " + std::to_string(layer.heads) +
           " heads needs limits.max_degree <= " + std::to_string(bound) +
           " (docs/quantization.md, GAT bounds)";
  }
  return "";
}

std::string check_everything(const ModelDesc& model) {
  if (model.version < 1 || model.version > kNewestFormatVersion) {
    return "format version " + std::to_string(model.version) + " is not 1.." +
           std::to_string(kNewestFormatVersion);
  }
  if (model.input_dim <= 0 || model.input_dim > kMaxFeatures) {
    return "input_dim " + std::to_string(model.input_dim) + " is not in 1.." + std::to_string(kMaxFeatures);
  }
  if (model.layers.empty()) return "the model has no layers";
  if (model.task != Task::kGraphClassification && model.task != Task::kNodeClassification)
    return "unknown task";
  if (model.input_int8 && !model.quantized) return "int8 input requires a quantized model";
  if (model.quantized) {
    const std::string e = check_quant_params(model.input_quant, "input quantization");
    if (!e.empty()) return e;
  }
  if (!model.input_column_scales.empty()) {
    if (!model.quantized) return "a float model carries no input column scales";
    if (model.input_column_scales.size() != static_cast<size_t>(model.input_dim)) {
      return std::to_string(model.input_column_scales.size()) + " input column scales for " +
             std::to_string(model.input_dim) + " features";
    }
    for (size_t k = 0; k < model.input_column_scales.size(); ++k) {
      const float s = model.input_column_scales[k];
      if (!(std::isfinite(s) && s > 0.0f))
        return "input column scale " + std::to_string(k) + " = " + std::to_string(s) +
               " must be finite and > 0";
    }
  }
  // outputs[j + 1] is output j: the model input first, then each layer's.
  std::vector<Output> outputs = {Output{model.input_dim, false}};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const LayerDesc& layer = model.layers[i];
    const std::string label = "layer " + std::to_string(i) + " (" + layer.name + ")";
    Output out;
    std::string e = check_dataflow(model, i, outputs, label, &out);
    if (e.empty()) e = check_layer(layer, model.quantized, label, &out.features);
    if (e.empty()) e = check_mean_heads(model, layer, label);
    if (!e.empty()) return e;
    out.graph_rows = out.graph_rows || layer_traits(layer.kind).reduction == Reduction::kGraphNodes;
    outputs.push_back(out);
  }
  // The model's output is the last layer's.
  const Output& result = outputs.back();
  if (model.task == Task::kGraphClassification && !result.graph_rows) {
    return "a graph classification model needs a global pooling layer (the last layer's output has one row "
           "per "
           "node)";
  }
  if (!model.class_names.empty() && model.class_names.size() != static_cast<size_t>(result.features)) {
    return std::to_string(model.class_names.size()) + " class names for " + std::to_string(result.features) +
           " output features";
  }
  return check_stored_ranges(model);
}

}  // namespace

uint32_t gat_mean_max_degree(int32_t heads) {
  // H (deg + 1) <= 2^22.
  return heads < 1 ? 0 : static_cast<uint32_t>((uint32_t{1} << 22) / static_cast<uint32_t>(heads) - 1);
}

int32_t input_of(const ModelDesc& model, size_t layer) {
  const std::vector<int32_t>& inputs = model.layers[layer].inputs;
  return inputs.empty() ? static_cast<int32_t>(layer) - 1 : inputs.front();
}

const QuantParams& input_quant_of(const ModelDesc& model, size_t layer) {
  const int32_t source = input_of(model, layer);
  return source == kModelInput ? model.input_quant : model.layers[static_cast<size_t>(source)].output;
}

Result<bool> check_model(const ModelDesc& model) {
  const std::string error = check_everything(model);
  if (!error.empty()) return Result<bool>::failure(error);
  Result<bool> r;
  r.value = true;
  return r;
}

}  // namespace converter
}  // namespace qgnn
