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

// Checks one layer consuming `*features` columns and updates it to the layer's output columns.
std::string check_layer(const LayerDesc& layer, bool quantized, const std::string& label, int32_t* features) {
  std::string e;
  switch (layer.kind) {
    case LayerKind::kLinear:
      e = check_dense(layer.dense, *features, quantized, label + ": dense");
      if (e.empty()) *features = layer.dense.out_features;
      break;
    case LayerKind::kGcnConv:
      e = check_dense(layer.dense, *features, quantized, label + ": dense");
      if (e.empty() && quantized) e = check_aggregation(layer, label);
      if (e.empty()) *features = layer.dense.out_features;
      break;
    case LayerKind::kSageConv:
      if (layer.reduce != Reduce::kMean && layer.reduce != Reduce::kMax) {
        return label + ": SAGEConv reduce must be MEAN or MAX";
      }
      e = check_dense(layer.dense, *features, quantized, label + ": neighbor dense");
      if (e.empty() && layer.has_root) {
        // One BatchNorm normalises the whole sum: it lives on the neighbour Dense.
        if (layer.root.batch_norm)
          return label + ": root dense has a BatchNorm (only the neighbor dense may)";
        e = check_dense(layer.root, *features, quantized, label + ": root dense");
        if (e.empty() && layer.root.out_features != layer.dense.out_features) {
          e = label + ": root dense has " + std::to_string(layer.root.out_features) +
              " output features, neighbor dense has " + std::to_string(layer.dense.out_features);
        }
      }
      if (e.empty() && quantized) e = check_aggregation(layer, label);
      if (e.empty()) *features = layer.dense.out_features;
      break;
    case LayerKind::kGinConv: {
      if (layer.mlp.empty()) return label + ": GINConv has an empty MLP";
      if (!std::isfinite(layer.eps)) return label + ": GINConv eps is not finite";
      int32_t columns = *features;
      for (size_t k = 0; k < layer.mlp.size() && e.empty(); ++k) {
        e = check_dense(layer.mlp[k], columns, quantized, label + ": mlp[" + std::to_string(k) + "]");
        columns = layer.mlp[k].out_features;
      }
      if (e.empty() && quantized) {
        if (layer.self_weight_q16 < 0 || layer.self_weight_q16 >= (1 << 23)) {
          return label + ": GINConv self_weight_q16 " + std::to_string(layer.self_weight_q16) +
                 " is outside [0, 2^23)";
        }
        if (layer.hidden.size() + 1 != layer.mlp.size()) {
          return label + ": GINConv has " + std::to_string(layer.hidden.size()) +
                 " hidden quantizations, expected " + std::to_string(layer.mlp.size() - 1);
        }
        for (size_t k = 0; k < layer.hidden.size() && e.empty(); ++k) {
          e = check_quant_params(layer.hidden[k], label + ": hidden[" + std::to_string(k) + "]");
        }
        if (e.empty()) e = check_aggregation(layer, label);
      }
      if (e.empty()) *features = columns;
      break;
    }
    case LayerKind::kGlobalPool:
      if (quantized)
        e = check_requant(layer.pool_requant, 1, kAggregationRequantShiftMax, label + ": pool requant");
      break;
    default:
      return label + ": unknown layer kind";
  }
  if (e.empty() && quantized) e = check_quant_params(layer.output, label + ": output");
  return e;
}

bool is_message_passing(LayerKind kind) {
  return kind == LayerKind::kGcnConv || kind == LayerKind::kSageConv || kind == LayerKind::kGinConv;
}

bool any_stored_range(const ModelDesc& model) {
  if (model.input_range) return true;
  for (const LayerDesc& layer : model.layers) {
    if (layer.output_range || layer.aggregation_range || !layer.hidden_ranges.empty()) return true;
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
    if (is_message_passing(layer.kind)) {
      e = check_range(layer.aggregation_range, label + ": aggregation");
    } else if (layer.aggregation_range) {
      e = label + ": an aggregation range on a layer without aggregation";
    }
    const size_t hidden = layer.kind == LayerKind::kGinConv ? layer.mlp.size() - 1 : 0;
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

std::string check_structure(const ModelDesc& model) {
  size_t pools = 0;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const LayerDesc& layer = model.layers[i];
    const std::string label = "layer " + std::to_string(i) + " (" + layer.name + ")";
    if (layer.kind == LayerKind::kGlobalPool) {
      if (model.task == Task::kNodeClassification) return label + ": a node classification model cannot pool";
      if (++pools > 1) return label + ": a model pools at most once";
    } else if (pools > 0 && is_message_passing(layer.kind)) {
      return label + ": message passing after the global pooling (rows are graphs, not nodes)";
    }
  }
  if (model.task == Task::kGraphClassification && pools == 0) {
    return "a graph classification model needs a global pooling layer";
  }
  return "";
}

std::string check_everything(const ModelDesc& model) {
  if (model.version < 1 || model.version > kBatchNormFormatVersion) {
    return "format version " + std::to_string(model.version) + " is not 1.." +
           std::to_string(kBatchNormFormatVersion);
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
  std::string e = check_structure(model);
  if (!e.empty()) return e;
  int32_t features = model.input_dim;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const LayerDesc& layer = model.layers[i];
    e = check_layer(layer, model.quantized, "layer " + std::to_string(i) + " (" + layer.name + ")",
                    &features);
    if (!e.empty()) return e;
  }
  if (!model.class_names.empty() && model.class_names.size() != static_cast<size_t>(features)) {
    return std::to_string(model.class_names.size()) + " class names for " + std::to_string(features) +
           " output features";
  }
  return check_stored_ranges(model);
}

}  // namespace

Result<bool> check_model(const ModelDesc& model) {
  const std::string error = check_everything(model);
  if (!error.empty()) return Result<bool>::failure(error);
  Result<bool> r;
  r.value = true;
  return r;
}

}  // namespace converter
}  // namespace qgnn
