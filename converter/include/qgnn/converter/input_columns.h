// Per-column input scales (docs/quantization.md, "Per-column input scales"): when the input's columns differ
// in scale (one-hot labels next to raw attributes in the hundreds), one scale per tensor rounds the small
// columns away. The input then gets a scale per column; the Dense ops reading the input absorb the per-column
// gains in their weights, so everything after the input quantization stays per tensor and unchanged.
//
// The converter decides from per-column ranges (choose_input_columns), calibrates the rest of the model in
// the normalised domain (fold_input_gains + divide_features: features x / g with weights W * g, the same
// float function), and quantizes with the final column scales (quantize_with_column_scales). python's
// qgnn.qat.quantizer implements the same choice.
#ifndef QGNN_CONVERTER_INPUT_COLUMNS_H_
#define QGNN_CONVERTER_INPUT_COLUMNS_H_

#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {

enum class InputScaleMode {
  kAuto,    ///< per column when some column would keep fewer than bits - 4 bits with one scale
  kTensor,  ///< one scale (format versions 1-3)
  kColumn,  ///< one scale per column whenever the model can absorb them
};

/// "auto", "tensor", "column" (qgnn-convert --input-scales, qgnn.train --input-scales).
const char* input_scale_mode_name(InputScaleMode mode);
Result<bool> parse_input_scale_mode(const std::string& name, InputScaleMode* out);

/// A column whose span is below the union's span / kColumnSpanRatio keeps fewer than bits - 4 bits under one
/// scale: "auto" then scales per column.
constexpr double kColumnSpanRatio = 16.0;

/// A column taking at most this many distinct non-zero values on the calibration data is an indicator
/// (one-hot labels, also standardised: two values): its range is its min-max, whatever the range method,
/// because clipping a rare category (a 3-sigma or 99th-percentile bound) erases it rather than trimming
/// noise. Columns with more values (counts, row-normalised bag-of-words, attributes) follow the method.
constexpr size_t kIndicatorColumnValues = 2;

/// The range of one input column: min-max for an indicator column (kIndicatorColumnValues; *indicator set
/// true), else the range method's. `stats` must be finalized (sorted sample).
ActivationRange input_column_range(const ActivationStats& stats, const RangeOptions& options, int bits,
                                   bool* indicator = nullptr);

/// What choose_input_columns decided.
struct InputColumnChoice {
  bool per_column = false;
  /// The normalised input range is [-negative_reach, 1]: column k divided by gains[k] lies in it.
  double negative_reach = 0.0;
  std::vector<double> gains;  ///< per column (empty when per tensor)
  /// Per tensor: the union of the indicator columns' ranges, which the input range is widened to contain (a
  /// rare category must not be clipped away); empty when there is no indicator column. Set by the caller.
  ActivationRange indicator_range;
  std::string reason;  ///< one line for the conversion notes
  ActivationRange normalized_range() const {
    ActivationRange r;
    r.min = static_cast<float>(-negative_reach);
    r.max = 1.0f;
    return r;
  }
};

/// Statistics of each input column over the calibration batches (the input's column k: values k, k + cols,
/// ...). Each column samples at most max(4096, kDefaultSampleCap / cols) values.
std::vector<ActivationStats> collect_column_statistics(const std::vector<GraphBatch>& batches, int32_t cols);

/// Why the model cannot absorb per-column gains ("" when it can): a layer reading the model input must feed
/// it (directly or through its aggregation) into Dense ops only; GlobalPool reading the input cannot.
std::string column_scales_blocker(const ModelDesc& model);

/// The choice of docs/quantization.md from per-column ranges (each widened to contain 0 here). `blocker`:
/// column_scales_blocker's answer; with one, auto stays per tensor and kColumn fails.
Result<InputColumnChoice> choose_input_columns(const std::vector<ActivationRange>& column_ranges,
                                               InputScaleMode mode, const std::string& blocker);

/// The float model with W[:, k] * gains[k] in every Dense that reads the model input or its aggregation (the
/// same function of features divided by the gains). Requires column_scales_blocker(model) == "".
ModelDesc fold_input_gains(const ModelDesc& float_model, const std::vector<double>& gains);

/// Divides feature column k of every batch by gains[k] (the normalised domain the folded model reads).
void divide_features(std::vector<GraphBatch>* batches, const std::vector<double>& gains);

/// quantize_model of the original float model with the input as `choice` says. Per tensor: the input range
/// widened to contain choice.indicator_range. Per column: s_in and the zero point from
/// the normalised range at config.input_bits, column_scales[k] = float(s_in * gains[k]), weights folded with
/// column_scales[k] / s_in, the input range replaced by the normalised one. The other ranges must come from
/// the normalised domain (statistics of fold_input_gains' model on divide_features' batches).
Result<ModelDesc> quantize_with_column_scales(const ModelDesc& float_model, CalibrationRanges ranges,
                                              const InputColumnChoice& choice, const QuantizerConfig& config,
                                              QuantizationReport* report);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_INPUT_COLUMNS_H_
