// has_stored_ranges / stored_ranges: a float model's stored ranges as CalibrationRanges (stored_ranges.h).
#include "qgnn/converter/stored_ranges.h"

#include <cmath>
#include <optional>
#include <string>

#include "qgnn/converter/layer_kind.h"

namespace qgnn {
namespace converter {
namespace {

// Converts one stored range; an error names `what` when it is missing or unusable.
std::string convert(const std::optional<StoredRange>& stored, const std::string& what, ActivationRange* out) {
  if (!stored) return what + " has no stored range";
  if (!std::isfinite(stored->min) || !std::isfinite(stored->max)) return what + " stored range is not finite";
  if (stored->min > stored->max) return what + " stored range has min > max";
  out->min = stored->min;
  out->max = stored->max;
  return "";
}

std::string convert_layer(const LayerDesc& layer, const std::string& label, LayerRanges* out) {
  std::string e = convert(layer.output_range, label + ": output", &out->output);
  const LayerKindTraits& kind = layer_traits(layer.kind);
  if (e.empty() && kind.aggregation) {
    e = convert(layer.aggregation_range, label + ": aggregation", &out->aggregation);
  }
  if (e.empty() &&
      ((layer.kind == LayerKind::kSageConv && layer.order == LayerOrder::kTransformFirst) || kind.attention))
    e = convert(layer.message_range, label + ": message", &out->message);
  if (e.empty() && kind.attention) e = convert(layer.logit_range, label + ": logit", &out->attention);
  if (!e.empty() || !kind.hidden) return e;
  const size_t hidden = hidden_count(layer);
  if (layer.hidden_ranges.size() != hidden) {
    return label + ": " + std::to_string(layer.hidden_ranges.size()) + " stored hidden ranges, expected " +
           std::to_string(hidden);
  }
  out->hidden.resize(hidden);
  for (size_t k = 0; k < hidden && e.empty(); ++k) {
    e = convert(layer.hidden_ranges[k], label + ": hidden[" + std::to_string(k) + "]", &out->hidden[k]);
  }
  return e;
}

}  // namespace

bool has_stored_ranges(const ModelDesc& model) {
  if (model.input_range) return true;
  for (const LayerDesc& layer : model.layers) {
    if (layer.output_range || layer.aggregation_range || layer.message_range || layer.logit_range ||
        !layer.hidden_ranges.empty())
      return true;
  }
  return false;
}

Result<CalibrationRanges> stored_ranges(const ModelDesc& model) {
  using R = Result<CalibrationRanges>;
  if (!has_stored_ranges(model)) return R::failure("the model stores no activation ranges");
  R r;
  std::string e = convert(model.input_range, "input", &r.value.input);
  r.value.layers.resize(model.layers.size());
  for (size_t i = 0; i < model.layers.size() && e.empty(); ++i) {
    const LayerDesc& layer = model.layers[i];
    e = convert_layer(layer, "layer " + std::to_string(i) + " (" + layer.name + ")", &r.value.layers[i]);
  }
  if (!e.empty()) return R::failure(e);
  return r;
}

}  // namespace converter
}  // namespace qgnn
