// Activation SQNR measured on the calibration statistics, and the warnings of the activation check
// (activation_check.h).
#include "qgnn/converter/activation_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace converter {
namespace {

namespace k = ::qgnn::kernels;

// An input this sparse gets the sparse-input hint rather than the per-column-scales one.
constexpr double kSparseZeroFraction = 0.9;

double sqnr_db(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

// Quantization noise of `params` over the non-zero sample (zeros add nothing, see the header).
ActivationReport measure(const std::string& name, int layer, const ActivationStats& stats,
                         const QuantParams& params) {
  double signal = 0.0, noise = 0.0;
  uint64_t clipped = 0;
  for (const float x : stats.sample) {
    const int32_t q = k::quantize_float(x, params.scale, params.zero_point, params.bits);
    const double e = static_cast<double>(x) - k::dequantize(q, params.scale, params.zero_point);
    signal += static_cast<double>(x) * x;
    noise += e * e;
    // Clipped: saturated at an end of the representable range by more than half a step.
    const bool low = q == k::qmin(params.bits) && x < params.scale * (q - params.zero_point - 0.5);
    const bool high = q == k::qmax(params.bits) && x > params.scale * (q - params.zero_point + 0.5);
    if (low || high) ++clipped;
  }
  ActivationReport a;
  a.name = name;
  a.layer = layer;
  a.bits = params.bits;
  a.observed_min = stats.empty() ? 0.0f : stats.min;
  a.observed_max = stats.empty() ? 0.0f : stats.max;
  // The range the quantized activation represents (the chosen range widened to contain 0, as quantized):
  // what matters on the device, whether the range was calibrated or stored by quantization-aware training.
  a.range_min = params.scale * static_cast<float>(k::qmin(a.bits) - params.zero_point);
  a.range_max = params.scale * static_cast<float>(k::qmax(a.bits) - params.zero_point);
  a.scale = params.scale;
  a.zero_point = params.zero_point;
  a.values = stats.count;
  const double count = static_cast<double>(stats.count);
  // Sample shares scaled to all values: exact when the sample holds every non-zero value.
  const double nonzero_share = count == 0.0 ? 0.0 : static_cast<double>(stats.nonzero_count) / count;
  a.zero_fraction = count == 0.0 ? 0.0 : static_cast<double>(stats.zero_count()) / count;
  a.clipped_fraction = stats.sample.empty() ? 0.0
                                            : static_cast<double>(clipped) /
                                                  static_cast<double>(stats.sample.size()) * nonzero_share;
  a.sqnr_db = sqnr_db(signal, noise);
  a.degenerate = stats.nonzero_count == 0;
  return a;
}

// A GATConv's attention weights on the calibration rows: the float softmax of each row's float logits against
// the integer one of the same logits quantized with the layer's logit parameters (its bits, the clamp, the
// exp table, the reciprocal and the unsigned 8-bit alpha: docs/quantization.md, "GAT attention (kernels)"
// step 3), alpha / 256. Like the other SQNRs it isolates the component: the logits here are the float
// model's, so the messages' and weights' quantization is not in it; the logits' own bits and range, and the
// table softmax, are.
ActivationReport measure_alpha(const std::string& name, int layer, const AttentionRows& rows,
                               const LayerDesc& l) {
  double signal = 0.0, noise = 0.0;
  uint64_t values = 0, zeros = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  std::vector<int32_t> q;
  std::vector<double> f;
  const float* e = rows.logits.data();
  for (const int32_t size : rows.sizes) {
    const size_t n = static_cast<size_t>(size);
    q.resize(n);
    f.resize(n);
    int32_t qmax = k::qmin(l.logit.bits);
    float fmax = e[0];
    for (size_t j = 0; j < n; ++j) {
      q[j] = k::quantize_float(e[j], l.logit.scale, l.logit.zero_point, l.logit.bits);
      qmax = std::max(qmax, q[j]);
      fmax = std::max(fmax, e[j]);
    }
    int64_t sum = 0;
    double fsum = 0.0;
    for (size_t j = 0; j < n; ++j) {
      sum += l.exp_table[static_cast<size_t>(qmax - q[j])];
      f[j] = std::exp(static_cast<double>(e[j]) - fmax);
      fsum += f[j];
    }
    int64_t inv = 0;
    if (sum > 0) inv = std::min<int64_t>(((int64_t{1} << 47) + sum / 2) / sum, 0xFFFFFFFFll);
    for (size_t j = 0; j < n; ++j) {
      const int64_t t = l.exp_table[static_cast<size_t>(qmax - q[j])];
      const int64_t alpha = std::min<int64_t>((t * inv + (int64_t{1} << 38)) >> 39, 255);
      const double af = f[j] / fsum;
      const double err = af - static_cast<double>(alpha) / 256.0;
      signal += af * af;
      noise += err * err;
      lo = std::min(lo, static_cast<float>(af));
      hi = std::max(hi, static_cast<float>(af));
      zeros += alpha == 0 ? 1 : 0;
    }
    values += n;
    e += n;
  }
  ActivationReport a;
  a.name = name;
  a.layer = layer;
  a.bits = 8;  // alpha, unsigned 8-bit at 1/256 (its range is [0, 255/256])
  a.observed_min = values == 0 ? 0.0f : lo;
  a.observed_max = values == 0 ? 0.0f : hi;
  a.range_min = 0.0f;
  a.range_max = 255.0f / 256.0f;
  a.scale = 1.0f / 256.0f;
  a.zero_point = 0;
  a.values = values;
  a.zero_fraction = values == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(values);
  a.sqnr_db = sqnr_db(signal, noise);
  return a;
}

std::string format_db(double db) {
  if (std::isinf(db)) return "inf dB";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f dB", db);
  return b;
}

std::string hint(const ActivationReport& a) {
  char share[32];
  std::snprintf(share, sizeof share, "%.1f %%", 100.0 * a.zero_fraction);
  const bool input = a.layer < 0;
  const std::string suffix = ".alpha";
  if (a.name.size() > suffix.size() &&
      a.name.compare(a.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return "the integer softmax of its attention logits: give the logits 8 bits (--bits 'LAYER.att=8') or "
           "another --calibration method for them";
  }
  if (a.degenerate) {
    return input
               ? "every calibration input value is 0: check the data set and --split (the model would see "
                 "only zeros)"
               : "always 0 on the calibration data (a dead ReLU, or inputs that never reach it): it stays 0 "
                 "on the device; calibrate on more or other data";
  }
  if (input && a.zero_fraction >= kSparseZeroFraction) {
    return std::string("sparse input (") + share +
           " zeros): ranges are over the non-zero values; columns of different scales need per-feature "
           "input quantization (docs/quantization.md), or give the input 8 bits (--bits 'input=8,...')";
  }
  if (input) {
    return "raw features with very different scales per column: see per-feature input quantization "
           "(docs/quantization.md), or standardize the features";
  }
  char clipped[48];
  std::snprintf(clipped, sizeof clipped, "%.2f %% clipped", 100.0 * a.clipped_fraction);
  return std::string("outliers stretch its range or it is clipped (") + clipped +
         "): try another --calibration method, or 8 bits for this component (--bits SPEC)";
}

}  // namespace

double default_min_sqnr_db(int bits) { return kSqnrDbPerBit * bits; }

bool measures_alpha(const LayerStats& stats, const LayerDesc& quantized_layer) {
  return layer_traits(quantized_layer.kind).attention && !stats.attention_rows.sizes.empty() &&
         quantized_layer.exp_table.size() == static_cast<size_t>(k::kGatExpTableSize);
}

Result<std::vector<ActivationReport>> measure_activations(const ModelDesc& quantized,
                                                          const CalibrationStats& stats) {
  using R = Result<std::vector<ActivationReport>>;
  if (!quantized.quantized) return R::failure("the model is not quantized");
  if (stats.layers.size() != quantized.layers.size())
    return R::failure("the calibration statistics do not match the model");
  R r;
  std::string error;
  const auto add = [&](const std::string& name, int layer, const ActivationStats& s, const QuantParams& p) {
    if (s.nonzero_count > 0 && s.sample.empty() && error.empty())
      error = name + ": statistics collected without a sample cannot measure the SQNR";
    r.value.push_back(measure(name, layer, s, p));
  };
  add("input", -1, stats.input, quantized.input_quant);
  for (size_t i = 0; i < quantized.layers.size(); ++i) {
    const LayerDesc& l = quantized.layers[i];
    const LayerStats& s = stats.layers[i];
    const std::string n = l.name.empty() ? "layer" + std::to_string(i) : l.name;
    const int layer = static_cast<int>(i);
    if (l.hidden.size() != hidden_count(l) || s.hidden.size() != l.hidden.size())
      return R::failure(n + ": hidden activations do not match the GIN MLP");
    if (layer_traits(l.kind).aggregation) add(n + ".aggregation", layer, s.aggregation, l.aggregation);
    if (layer_traits(l.kind).attention) {  // GATConv: its messages, then its attention logits
      add(n + ".message", layer, s.message, l.message);
      add(n + ".logit", layer, s.attention, l.logit);
      if (measures_alpha(s, l)) r.value.push_back(measure_alpha(n + ".alpha", layer, s.attention_rows, l));
    }
    for (size_t h = 0; h < l.hidden.size(); ++h)
      add(n + ".hidden" + std::to_string(h), layer, s.hidden[h], l.hidden[h]);
    add(n + ".output", layer, s.output, l.output);
  }
  if (!error.empty()) return R::failure(error);
  return r;
}

std::vector<std::string> check_activations(std::vector<ActivationReport>* activations, double min_sqnr_db) {
  std::vector<std::string> warnings;
  for (ActivationReport& a : *activations) {
    a.min_sqnr_db = std::isnan(min_sqnr_db) ? default_min_sqnr_db(a.bits) : min_sqnr_db;
    a.warning.clear();
    char range[96];
    std::snprintf(range, sizeof range, "range [%g, %g], %d bits", a.range_min, a.range_max, a.bits);
    if (a.degenerate) {
      a.warning = "degenerate range (no non-zero calibration value; " + std::string(range) + ")";
    } else if (a.sqnr_db < a.min_sqnr_db) {
      a.warning = "SQNR " + format_db(a.sqnr_db) + " below " + format_db(a.min_sqnr_db) + " (" + range + ")";
    } else {
      continue;
    }
    a.warning += ": " + hint(a);
    warnings.push_back(a.name + ": " + a.warning);
  }
  return warnings;
}

}  // namespace converter
}  // namespace qgnn
