// Calibration: statistics of every activation of the float forward pass over the calibration batches, and
// the ranges chosen from them for a quantizer configuration.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace {

std::string describe(const ActivationEvent& e) {
  switch (e.point) {
    case ActivationPoint::kInput:
      return "the input features";
    case ActivationPoint::kAggregation:
      return "the aggregation (transform-first GCN: the messages) of layer " + std::to_string(e.layer);
    case ActivationPoint::kMessage:
      return "the messages of layer " + std::to_string(e.layer);
    case ActivationPoint::kAttention:
      return "the attention logits of layer " + std::to_string(e.layer);
    case ActivationPoint::kHidden:
      return "hidden activation " + std::to_string(e.index) + " of layer " + std::to_string(e.layer);
    case ActivationPoint::kOutput:
      break;
  }
  return "the output of layer " + std::to_string(e.layer);
}

CalibrationStats empty_stats(const ModelDesc& model) {
  CalibrationStats s;
  s.layers.resize(model.layers.size());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const size_t hidden = hidden_count(model.layers[i]);
    s.layers[i].hidden.resize(hidden);
  }
  return s;
}

ActivationStats* find(CalibrationStats* s, const ActivationEvent& e) {
  if (e.point == ActivationPoint::kInput) return &s->input;
  LayerStats& l = s->layers[static_cast<size_t>(e.layer)];
  switch (e.point) {
    case ActivationPoint::kAggregation:
      return &l.aggregation;
    case ActivationPoint::kMessage:
      return &l.message;
    case ActivationPoint::kAttention:
      return &l.attention;
    case ActivationPoint::kHidden:
      return &l.hidden[static_cast<size_t>(e.index)];
    default:
      return &l.output;
  }
}

template <typename F>
void for_each_stats(CalibrationStats* s, F f) {
  f(&s->input);
  for (LayerStats& l : s->layers) {
    f(&l.aggregation);
    f(&l.message);
    f(&l.attention);
    for (ActivationStats& h : l.hidden) f(&h);
    f(&l.output);
  }
}

bool valid_bits(int bits) { return bits == 4 || bits == 8; }

}  // namespace

Result<CalibrationStats> collect_statistics(const ModelDesc& float_model,
                                            const std::vector<GraphBatch>& batches, size_t sample_cap) {
  using R = Result<CalibrationStats>;
  if (batches.empty()) return R::failure("no calibration data");
  R r;
  r.value = empty_stats(float_model);
  std::string non_finite;
  const ActivationCallback callback = [&](const ActivationEvent& e) {
    if (!non_finite.empty()) return;
    const size_t count = e.rows * e.cols;
    if (!Eigen::Map<const Eigen::ArrayXf>(e.values, static_cast<Eigen::Index>(count)).allFinite()) {
      non_finite = describe(e) + " is not finite";
      return;
    }
    observe_values(find(&r.value, e), e.values, count, sample_cap);
    if (e.point == ActivationPoint::kAttention && sample_cap > 0) {
      AttentionRows& rows = r.value.layers[static_cast<size_t>(e.layer)].attention_rows;
      const float* v = e.values;
      for (size_t k = 0; k < e.row_count; ++k) {
        const size_t n = static_cast<size_t>(e.row_sizes[k]);
        if (rows.logits.size() + n > kAttentionRowCap) break;  // whole rows only: a softmax needs all of them
        rows.logits.insert(rows.logits.end(), v, v + n);
        rows.sizes.push_back(e.row_sizes[k]);
        v += n;
      }
    }
  };
  for (size_t b = 0; b < batches.size(); ++b) {
    const Result<std::vector<float>> out = run_float_model(float_model, batches[b], callback);
    if (!out.ok()) return R::failure("calibration batch " + std::to_string(b) + ": " + out.error);
    if (!non_finite.empty()) return R::failure("calibration batch " + std::to_string(b) + ": " + non_finite);
  }
  for_each_stats(&r.value, [](ActivationStats* s) { finalize_statistics(s); });
  return r;
}

Result<CalibrationRanges> select_ranges(const CalibrationStats& stats, const RangeOptions& options,
                                        const QuantizerConfig& config, size_t num_layers) {
  using R = Result<CalibrationRanges>;
  const Result<bool> valid = validate_range_options(options);
  if (!valid.ok()) return R::failure(valid.error);
  if (stats.layers.size() != num_layers) {
    return R::failure("calibration statistics cover " + std::to_string(stats.layers.size()) +
                      " layers, the model has " + std::to_string(num_layers));
  }
  std::string error;
  // Percentiles of statistics collected without a sample would silently be min-max ranges. (An activation
  // that is all zeros has an empty sample legitimately: the sample holds the non-zero values.)
  const auto range = [&](const ActivationStats& s, int bits, const std::string& what) {
    if (options.method == RangeMethod::kPercentile && s.nonzero_count > 0 && s.sample.empty() &&
        error.empty())
      error = what + ": percentile ranges need statistics collected with a sample";
    return select_range(s, options, bits);
  };
  if (!valid_bits(config.input_bits)) return R::failure("input bits must be 4 or 8");
  R r;
  r.value.input = range(stats.input, config.input_bits, "input");
  for (size_t i = 0; i < num_layers; ++i) {
    ComponentBits bits = config.default_bits;
    const auto it = config.layer_bits.find(static_cast<int>(i));
    if (it != config.layer_bits.end()) bits = it->second;
    const std::string label = "layer " + std::to_string(i);
    if (!valid_bits(bits.weights) || !valid_bits(bits.aggregation) || !valid_bits(bits.output) ||
        !valid_bits(bits.attention)) {
      return R::failure(label + ": bits must be 4 or 8");
    }
    const int output_bits = i + 1 == num_layers && config.int8_logits ? 8 : bits.output;
    const LayerStats& ls = stats.layers[i];
    LayerRanges lr;
    lr.aggregation = range(ls.aggregation, bits.aggregation, label + " aggregation");
    lr.message = range(ls.message, bits.aggregation, label + " message");
    lr.attention = range(ls.attention, bits.attention, label + " attention");
    for (size_t k = 0; k < ls.hidden.size(); ++k)
      lr.hidden.push_back(range(ls.hidden[k], bits.output, label + " hidden " + std::to_string(k)));
    lr.output = range(ls.output, output_bits, label + " output");
    r.value.layers.push_back(lr);
  }
  if (!error.empty()) return R::failure(error);
  return r;
}

Result<CalibrationRanges> calibrate(const ModelDesc& float_model, const std::vector<GraphBatch>& batches) {
  return calibrate(float_model, batches, QuantizerConfig{});
}

Result<CalibrationRanges> calibrate(const ModelDesc& float_model, const std::vector<GraphBatch>& batches,
                                    const QuantizerConfig& config) {
  using R = Result<CalibrationRanges>;
  const Result<bool> valid = validate_range_options(config.ranges);
  if (!valid.ok()) return R::failure(valid.error);
  // Min-max and Pauta read only the moments: no sample to keep.
  const size_t cap = config.ranges.method == RangeMethod::kPercentile ? kDefaultSampleCap : 0;
  const Result<CalibrationStats> stats = collect_statistics(float_model, batches, cap);
  if (!stats.ok()) return R::failure(stats.error);
  return select_ranges(stats.value, config.ranges, config, float_model.layers.size());
}

}  // namespace converter
}  // namespace qgnn
