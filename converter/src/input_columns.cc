// Per-column input scales: the choice, the folding of the gains and the quantization with them
// (input_columns.h; the numerics are docs/quantization.md's "Per-column input scales").
#include "qgnn/converter/input_columns.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "qgnn/converter/layer_kind.h"

namespace qgnn {
namespace converter {
namespace {

// Gain of a live column for the normalised range [-r, 1]: the smallest divisor that fits both ends.
double column_gain(double lo, double hi, double r) {
  if (lo >= 0.0) return hi;
  return r > 0.0 ? std::max(hi, -lo / r) : std::numeric_limits<double>::infinity();
}

// sum_k log(used fraction of [-r, 1]) over the live columns: what the choice of r maximises.
double log_fraction_sum(const std::vector<ActivationRange>& ranges, const std::vector<size_t>& live,
                        double r) {
  double sum = 0.0;
  for (size_t k : live) {
    const double lo = ranges[k].min, hi = ranges[k].max;
    const double g = column_gain(lo, hi, r);
    if (!std::isfinite(g)) return -std::numeric_limits<double>::infinity();
    sum += std::log((hi - lo) / (g * (1.0 + r)));
  }
  return sum;
}

std::string format_double(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

const char* input_scale_mode_name(InputScaleMode mode) {
  switch (mode) {
    case InputScaleMode::kTensor:
      return "tensor";
    case InputScaleMode::kColumn:
      return "column";
    case InputScaleMode::kAuto:
      break;
  }
  return "auto";
}

Result<bool> parse_input_scale_mode(const std::string& name, InputScaleMode* out) {
  for (InputScaleMode m : {InputScaleMode::kAuto, InputScaleMode::kTensor, InputScaleMode::kColumn}) {
    if (name == input_scale_mode_name(m)) {
      *out = m;
      return Result<bool>{true, ""};
    }
  }
  return Result<bool>::failure("unknown input scale mode '" + name + "' (one of auto, tensor, column)");
}

std::vector<ActivationStats> collect_column_statistics(const std::vector<GraphBatch>& batches, int32_t cols) {
  std::vector<ActivationStats> stats(static_cast<size_t>(std::max(cols, 0)));
  if (cols <= 0) return stats;
  const size_t cap = std::max<size_t>(4096, kDefaultSampleCap / static_cast<size_t>(cols));
  std::vector<float> column;
  for (const GraphBatch& b : batches) {
    const size_t rows = b.num_nodes;
    column.resize(rows);
    for (size_t k = 0; k < stats.size(); ++k) {
      for (size_t n = 0; n < rows; ++n) column[n] = b.features[n * static_cast<size_t>(cols) + k];
      observe_values(&stats[k], column.data(), rows, cap);
    }
  }
  for (ActivationStats& s : stats) finalize_statistics(&s);
  return stats;
}

ActivationRange input_column_range(const ActivationStats& stats, const RangeOptions& options, int bits,
                                   bool* indicator) {
  if (indicator != nullptr) *indicator = false;
  if (stats.empty()) return ActivationRange{};
  // Distinct non-zero values of the sorted sample (a subsample of a continuous column has many anyway).
  size_t distinct = 0;
  for (size_t i = 0; i < stats.sample.size() && distinct <= kIndicatorColumnValues; ++i)
    distinct += (i == 0 || stats.sample[i] != stats.sample[i - 1]) ? 1 : 0;
  if (!stats.subsampled() && distinct <= kIndicatorColumnValues) {
    if (indicator != nullptr) *indicator = true;
    ActivationRange r;
    r.min = stats.min;
    r.max = stats.max;
    return r;
  }
  return select_range(stats, options, bits);
}

std::string column_scales_blocker(const ModelDesc& model) {
  for (size_t i = 0; i < model.layers.size(); ++i) {
    if (input_of(model, i) != kModelInput) continue;
    const LayerDesc& layer = model.layers[i];
    const LayerKindTraits& kind = layer_traits(layer.kind);
    bool absorbs = false;
    for (const DenseOp& op : kind.dense_ops(layer))
      absorbs = absorbs || op.input == DenseInput::kLayerInput || op.input == DenseInput::kAggregation;
    if (!absorbs) {
      return "layer " + std::to_string(i) + " (" + layer.name + ", " + kind.name +
             ") reads the model input without a Dense to absorb per-column scales";
    }
  }
  return "";
}

Result<InputColumnChoice> choose_input_columns(const std::vector<ActivationRange>& column_ranges,
                                               InputScaleMode mode, const std::string& blocker) {
  using R = Result<InputColumnChoice>;
  R r;
  std::vector<ActivationRange> ranges = column_ranges;
  std::vector<size_t> live;
  double union_lo = 0.0, union_hi = 0.0;
  for (size_t k = 0; k < ranges.size(); ++k) {
    ActivationRange& c = ranges[k];
    if (c.empty()) c.min = c.max = 0.0f;
    if (!std::isfinite(c.min) || !std::isfinite(c.max))
      return R::failure("input column " + std::to_string(k) + " has a non-finite range");
    c.min = std::min(c.min, 0.0f);
    c.max = std::max(c.max, 0.0f);
    if (c.max > c.min) {
      live.push_back(k);
      union_lo = std::min<double>(union_lo, c.min);
      union_hi = std::max<double>(union_hi, c.max);
    }
  }
  if (live.empty()) {
    if (mode == InputScaleMode::kColumn)
      return R::failure("per-column input scales: every input column is 0");
    return r;
  }
  if (mode == InputScaleMode::kTensor) return r;
  double narrowest = std::numeric_limits<double>::infinity();
  size_t narrowest_column = live.front();
  for (size_t k : live) {
    const double span = static_cast<double>(ranges[k].max) - ranges[k].min;
    if (span < narrowest) {
      narrowest = span;
      narrowest_column = k;
    }
  }
  const double union_span = union_hi - union_lo;
  if (mode == InputScaleMode::kAuto && narrowest * kColumnSpanRatio >= union_span) return r;
  if (!blocker.empty()) {
    if (mode == InputScaleMode::kColumn) return R::failure("per-column input scales: " + blocker);
    r.value.reason = "input columns differ in scale (column " + std::to_string(narrowest_column) + " spans " +
                     format_double("%g", narrowest) + " of " + format_double("%g", union_span) +
                     ") but one scale is kept: " + blocker;
    return r;
  }

  // The negative reach r of the normalised range [-r, 1]: 0 when no column is negative, else the candidate
  // (1 or a column's own ratio -lo / hi) that wastes the fewest bits summed over the columns.
  bool any_negative = false;
  for (size_t k : live) any_negative = any_negative || ranges[k].min < 0.0f;
  double best_r = 0.0;
  if (any_negative) {
    std::vector<double> candidates = {1.0};
    for (size_t k : live) {
      if (ranges[k].min < 0.0f && ranges[k].max > 0.0f)
        candidates.push_back(-static_cast<double>(ranges[k].min) / ranges[k].max);
    }
    std::sort(candidates.begin(), candidates.end());
    double best = -std::numeric_limits<double>::infinity();
    for (double c : candidates) {
      const double value = log_fraction_sum(ranges, live, c);
      if (value > best) {  // strictly: ties keep the smaller r
        best = value;
        best_r = c;
      }
    }
  }
  InputColumnChoice& choice = r.value;
  choice.per_column = true;
  choice.negative_reach = best_r;
  choice.gains.assign(ranges.size(), 0.0);
  double largest = 0.0;
  for (size_t k : live) {
    choice.gains[k] = column_gain(ranges[k].min, ranges[k].max, best_r);
    largest = std::max(largest, choice.gains[k]);
  }
  for (double& g : choice.gains) {
    if (g == 0.0) g = largest;  // a column that was 0 throughout: as coarse as the coarsest live one
  }
  choice.reason = "per-column input scales (" + std::string(input_scale_mode_name(mode)) + "): column " +
                  std::to_string(narrowest_column) + " spans " + format_double("%g", narrowest) +
                  " of the input's " + format_double("%g", union_span) + "; normalised range [" +
                  format_double("%g", -best_r) + ", 1], gains " +
                  format_double("%g", *std::min_element(choice.gains.begin(), choice.gains.end())) + " ... " +
                  format_double("%g", largest);
  return r;
}

ModelDesc fold_input_gains(const ModelDesc& float_model, const std::vector<double>& gains) {
  ModelDesc m = float_model;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (input_of(m, i) != kModelInput) continue;
    LayerDesc& layer = m.layers[i];
    for (const DenseOp& op : layer_traits(layer.kind).dense_ops(layer)) {
      if (op.input != DenseInput::kLayerInput && op.input != DenseInput::kAggregation) continue;
      DenseDesc& d = dense_of(layer, op);
      const size_t in = static_cast<size_t>(d.in_features);
      for (size_t j = 0; j < static_cast<size_t>(d.out_features); ++j) {
        for (size_t k = 0; k < in; ++k) {
          float& w = d.weight[j * in + k];
          w = static_cast<float>(static_cast<double>(w) * gains[k]);
        }
      }
    }
  }
  return m;
}

void divide_features(std::vector<GraphBatch>* batches, const std::vector<double>& gains) {
  const size_t cols = gains.size();
  for (GraphBatch& b : *batches) {
    for (size_t i = 0; i < b.features.size(); ++i) {
      b.features[i] = static_cast<float>(static_cast<double>(b.features[i]) / gains[i % cols]);
    }
  }
}

Result<ModelDesc> quantize_with_column_scales(const ModelDesc& float_model, CalibrationRanges ranges,
                                              const InputColumnChoice& choice, const QuantizerConfig& config,
                                              QuantizationReport* report) {
  using R = Result<ModelDesc>;
  if (!choice.per_column) {
    const ActivationRange& extra = choice.indicator_range;
    if (!extra.empty()) {
      ranges.input.min = ranges.input.empty() ? extra.min : std::min(ranges.input.min, extra.min);
      ranges.input.max = ranges.input.empty() ? extra.max : std::max(ranges.input.max, extra.max);
    }
    return quantize_model(float_model, ranges, config, report);
  }
  if (choice.gains.size() != static_cast<size_t>(float_model.input_dim))
    return R::failure("per-column input scales: gains do not match the model's input");
  ranges.input = choice.normalized_range();
  const Result<QuantParams> input = activation_quant_params(ranges.input, config.input_bits);
  if (!input.ok()) return R::failure("input: " + input.error);
  const double s_in = input.value.scale;
  std::vector<float> column_scales(choice.gains.size());
  std::vector<double> realised(choice.gains.size());
  for (size_t k = 0; k < column_scales.size(); ++k) {
    column_scales[k] = static_cast<float>(s_in * choice.gains[k]);
    if (!(std::isfinite(column_scales[k]) && column_scales[k] > 0.0f)) {
      return R::failure("per-column input scales: column " + std::to_string(k) + " gets scale " +
                        format_double("%g", column_scales[k]) + " (its range is too large or too small)");
    }
    realised[k] = static_cast<double>(column_scales[k]) / s_in;  // the gain the runtime applies
  }
  R q = quantize_model(fold_input_gains(float_model, realised), ranges, config, report);
  if (!q.ok()) return q;
  q.value.input_column_scales = std::move(column_scales);
  return q;
}

}  // namespace converter
}  // namespace qgnn
