// Conversion report (qgnn-convert --report FILE.json): what quantization did to each layer. Per Dense, the
// weight SQNR and the bytes of its parameters; per activation, the observed and the chosen range, the
// quantization parameters, the share of calibration values clipped, the activation SQNR and the activation
// check's verdict (activation_check.h).
//
// SQNR = 10 log10(sum x^2 / sum (x - x_hat)^2) in dB, in double:
//  * weights: x_hat = s_w[c] * q over every weight of the Dense;
//  * activations: the values the float model produces at that point over the calibration batches, each
//    quantized on its own with the activation's QuantParams (kernels numerics: quantize_float, dequantize),
//    i.e. the noise of that one quantizer, not the error accumulated through the integer network. Measured
//    on the calibration statistics' non-zero sample (measure_activations): zeros are exact, so this is every
//    value unless an activation has more than 2^24 non-zero values (then a uniform subsample, noted).
// When the error is exactly 0 (an exactly representable tensor, or all zeros) the SQNR is +infinity in these
// structs and null in the JSON.
//
// Bytes are the payload the .qgnn stores, without FlatBuffers framing: weights at their bit width (int4
// packed two per byte over the whole tensor: ceil(n / 2)), int32 biases, and quantization parameters
// (per-channel float scales, int32 requant multipliers and shifts; each QuantParams 9 bytes: bits, scale,
// zero point; GIN's self weight 4 bytes).
#ifndef QGNN_CONVERTER_REPORT_H_
#define QGNN_CONVERTER_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

struct ActivationReport {
  /// "input", "<layer>.aggregation", "<layer>.hidden<k>", "<layer>.message", "<layer>.logit" and
  /// "<layer>.alpha" (GATConv: its messages, its attention logits after LeakyReLU and their integer softmax,
  /// alpha / 256 against the float softmax of the same logits), "<layer>.output"
  std::string name;
  int bits = 8;
  float observed_min = 0.0f, observed_max = 0.0f;  ///< over the calibration set
  float range_min = 0.0f, range_max = 0.0f;        ///< chosen by the range method (before widening to 0)
  float scale = 1.0f;                              ///< the quantized model's QuantParams
  int32_t zero_point = 0;
  uint64_t values = 0;            ///< calibration values seen
  double clipped_fraction = 0.0;  ///< share of the values outside [range_min, range_max]
  double sqnr_db = 0.0;
  int layer = -1;              ///< the layer it belongs to (-1: the input)
  double zero_fraction = 0.0;  ///< share of the values that are exactly 0
  /// The activation check (check_activations): no non-zero calibration value, the threshold it was held
  /// to, and the warning ("" when healthy).
  bool degenerate = false;
  double min_sqnr_db = 0.0;
  std::string warning;
};

struct DenseReport {
  std::string
      name;  ///< "<layer>.dense" (Linear, GCNConv, SAGEConv neighbours), "<layer>.root", "<layer>.mlp<k>"
  int bits = 8;
  size_t out_features = 0, in_features = 0;
  double weight_sqnr_db = 0.0;
  size_t weight_bytes = 0, bias_bytes = 0;
  size_t quant_param_bytes = 0;  ///< weight scales + requant multipliers and shifts
};

struct LayerReport {
  std::string name;  ///< LayerDesc.name, or "layer<i>" when empty
  std::string kind;  ///< "Linear", "GCNConv", "SAGEConv", "GINConv", "GlobalPool", "GATConv"
  std::vector<DenseReport> dense;
  /// aggregation, hidden..., message and logit (GATConv), output (those the layer has)
  std::vector<ActivationReport> activations;
  /// Every quantization parameter of the layer: its Dense ones plus activation QuantParams, aggregation /
  /// pooling requant and GIN's self weight.
  size_t quant_param_bytes = 0;
};

struct ConversionReport {
  RangeOptions ranges;
  std::vector<ActivationReport> input;  ///< one entry, "input"
  std::vector<LayerReport> layers;
  size_t weight_bytes = 0, bias_bytes = 0,
         quant_param_bytes = 0;    ///< model totals (input QuantParams included)
  std::vector<std::string> notes;  ///< for humans (e.g. "percentiles of conv1.aggregation from a subsample")
  std::vector<std::string> warnings;  ///< the activation check's lines (check_activations)
};

/// Builds the report of `quantized` = quantize_model(float_model, select_ranges(stats, options, ...), ...):
/// the activations from measure_activations(quantized, stats), checked by check_activations with
/// `min_sqnr_db` (NaN: the default by bits). Fails when the two models or the statistics do not match
/// (layer count, kinds or inputs, Dense shapes, float / quantized), on invalid options, or on statistics
/// without a sample.
Result<ConversionReport> build_report(const ModelDesc& float_model, const ModelDesc& quantized,
                                      const CalibrationStats& stats, const RangeOptions& options,
                                      double min_sqnr_db = std::numeric_limits<double>::quiet_NaN());

/// Pretty-printed JSON (2-space indent), keys in a fixed order: "range_method", "sigma", "percentile",
/// "totals" {"weight_bytes", "bias_bytes", "quant_param_bytes"}, "input" [activation], "layers" [{"name",
/// "kind", "quant_param_bytes", "dense" [...], "activations" [...]}], "notes". Activation keys: "name",
/// "bits", "observed_min", "observed_max", "range_min", "range_max", "scale", "zero_point", "values",
/// "clipped_fraction", "sqnr_db", "zero_fraction", "degenerate", "min_sqnr_db", "warning" (null when
/// healthy); then "warnings" [line] after "notes". Dense keys: "name", "bits", "out_features", "in_features",
/// "weight_sqnr_db", "weight_bytes", "bias_bytes", "quant_param_bytes". Infinite SQNRs are null.
std::string report_to_json(const ConversionReport& report);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_REPORT_H_
