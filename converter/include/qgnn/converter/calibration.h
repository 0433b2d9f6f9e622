// Calibration in two steps: collect_statistics runs the float model over the calibration graphs once and
// summarises every activation (min, max, mean, standard deviation, a sample of its values); select_range(s)
// then turn those statistics into ranges for a range method and the bits each activation gets. The split
// lets a bit search try many bit assignments (the percentile default depends on the bits) without running
// the float model again.
//
// Range methods (docs/quantization.md, python/qgnn/qat/observers.py). Every range contains 0 (0 must be
// exact; the quantizer widens to it anyway), and a tensor without a non-zero value gives the degenerate
// range [0, 0] (the quantizer's collapsed-range rule applies, and check_activations reports it):
//  * min-max: [min(0, observed minimum), max(0, observed maximum)] over all values;
//  * percentile P: over the NON-ZERO calibration values nz of the activation, widened to contain 0:
//    [min(0, percentile(nz, 100 - P)), max(0, percentile(nz, P))], numpy's default linear interpolation;
//    P = 0 picks Degree-Quant's defaults, 99.9 for 8 bits and 99 for 4. Over all values, a bag-of-words
//    input at 0.86 % density has both percentiles at 0 and its range collapses;
//  * Pauta (3-sigma, QGNN-IC): [max(mean - k sigma, min), min(mean + k sigma, max)], mean and population
//    sigma of the NON-ZERO calibration values of the activation, all at once (python's batch_range over the
//    whole calibration set). Zeros are left out because 0 is exact whatever the range (it always contains 0),
//    while a point mass at 0 (ReLU outputs, sparse bag-of-words features) shrinks sigma and clips the
//    informative tail: on Cora's input features, all values give mean + 3 sigma = 0.022 (98.7 % of the
//    non-zero features clipped to it), the non-zero ones 0.149 (2.4 % clipped).
//
// Sample: it holds the NON-ZERO values only (zeros are counted: count - nonzero_count), which is all the
// percentiles and the activation SQNR (activation_check.h) need, and far fewer values to keep and sort on
// sparse or ReLU activations. Percentiles are exact as long as an activation has at most `sample_cap`
// non-zero values over the whole calibration set (default kDefaultSampleCap = 2^24, 64 MiB of floats).
// Beyond that the sample is a uniform subsample of exactly `sample_cap` non-zero values, drawn by reservoir
// sampling (Algorithm R) with a fixed-seed generator: the same values in the same order always give the
// same sample, so ranges are reproducible. Min, max, mean and sigma always cover every value.
#ifndef QGNN_CONVERTER_CALIBRATION_H_
#define QGNN_CONVERTER_CALIBRATION_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

struct QuantizerConfig;  // quantizer.h

/// Closed range of an activation. Empty (min > max) until something is observed.
struct ActivationRange {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool empty() const { return min > max; }
};

enum class RangeMethod {
  kMinMax,      ///< the observed minimum and maximum (widened to contain 0)
  kPercentile,  ///< clip to the [100 - P, P] percentiles of the non-zero values (widened to contain 0)
  kPauta,       ///< clip to mean +- k sigma (and to the observed min / max)
};

/// How ranges are chosen from statistics. Checked by validate_range_options.
struct RangeOptions {
  RangeMethod method = RangeMethod::kMinMax;
  /// Pauta's k: finite and > 0, or 0 for the default by bits: 5 for 8-bit activations, 3 for 4-bit ones
  /// (the rounding noise of 8 bits is 16x finer, so clipping the tails costs relatively more there).
  double sigma = 0.0;
  /// Percentile P in (50, 100]: the range is [percentile(nz, 100 - P), percentile(nz, P)] of the non-zero
  /// values nz, widened to contain 0. 0 picks Degree-Quant's default by bits: 99.9 for 8-bit activations, 99
  /// for 4-bit ones.
  double percentile = 0.0;
};

/// "minmax", "percentile" or "pauta" (the names of qgnn-convert --calibration and python's observers).
const char* range_method_name(RangeMethod method);
/// Parses a range_method_name; fails naming the accepted names.
Result<bool> parse_range_method(const std::string& name, RangeMethod* out);
/// Fails with a message naming the bad field: sigma not finite or <= 0, percentile not 0 and not in (50,
/// 100].
Result<bool> validate_range_options(const RangeOptions& options);

/// The percentile P a percentile range uses for an activation of `bits` bits (options.percentile, or the
/// default by bits when it is 0).
double effective_percentile(const RangeOptions& options, int bits);
/// The Pauta k an activation of `bits` bits uses (options.sigma, or the default by bits when it is 0).
double effective_sigma(const RangeOptions& options, int bits);

/// Everything the range methods need to know about one activation over the whole calibration set.
struct ActivationStats {
  uint64_t count = 0;  ///< values observed
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  double mean = 0.0;
  double m2 = 0.0;  ///< sum of squared deviations from the mean (Chan et al.'s parallel update)
  /// Count, mean and squared deviations of the non-zero values only (what Pauta ranges use).
  uint64_t nonzero_count = 0;
  double nonzero_mean = 0.0;
  double nonzero_m2 = 0.0;
  /// The non-zero values (all of them up to the sample cap, else a uniform subsample of them), sorted
  /// ascending once collect_statistics / finalize_statistics return.
  std::vector<float> sample;
  uint64_t rng_state = 0x9E3779B97F4A7C15ull;  ///< reservoir sampling generator (fixed seed)

  bool empty() const { return count == 0; }
  bool subsampled() const { return nonzero_count > sample.size(); }
  uint64_t zero_count() const { return count - nonzero_count; }
  /// Population standard deviation (0 when empty).
  double std_dev() const;
};

constexpr size_t kDefaultSampleCap = size_t{1} << 24;

/// Adds `count` finite values to `stats`, keeping at most `sample_cap` of the non-zero ones in the sample
/// (0: no sample, enough for min-max and Pauta ranges but not for the activation SQNR). The caller checks
/// finiteness (collect_statistics does, naming the activation).
void observe_values(ActivationStats* stats, const float* values, size_t count,
                    size_t sample_cap = kDefaultSampleCap);
/// Sorts the sample (percentiles read it directly afterwards).
void finalize_statistics(ActivationStats* stats);

/// GATConv: whole softmax rows of float attention logits (one destination node and head each: its self-loop,
/// then its in-edges), the first rows of the calibration data in order, up to kAttentionRowCap logits. The
/// report compares their float softmax with the integer one (the `<layer>.alpha` SQNR).
struct AttentionRows {
  std::vector<float> logits;
  std::vector<int32_t> sizes;  ///< logits per row
};

constexpr size_t kAttentionRowCap = size_t{1} << 20;

/// Statistics of every activation of one layer, addressed like ActivationEvent (quantizer.h).
struct LayerStats {
  ActivationStats aggregation;          ///< message-passing layers (empty otherwise)
  ActivationStats message;              ///< transform-first SAGEConv and GATConv: the messages (else empty)
  ActivationStats attention;            ///< GATConv: the attention logits (empty otherwise)
  AttentionRows attention_rows;         ///< GATConv, with a sample (sample_cap > 0): rows of those logits
  std::vector<ActivationStats> hidden;  ///< GIN: one per MLP Dense but the last
  ActivationStats output;
};

struct CalibrationStats {
  ActivationStats input;
  std::vector<LayerStats> layers;  ///< one per model layer
};

/// Runs the float model over every batch and summarises each activation (`sample_cap`: see
/// observe_values). Fails on an empty batch list, a bad batch, or a non-finite activation (the float model
/// overflows; the error names the activation and the batch).
Result<CalibrationStats> collect_statistics(const ModelDesc& float_model,
                                            const std::vector<GraphBatch>& batches,
                                            size_t sample_cap = kDefaultSampleCap);

/// The range of one activation of `bits` bits (4 or 8; only the default percentile depends on it). Empty
/// statistics give an empty range; statistics without a non-zero value the degenerate range [0, 0]. `options`
/// must be valid (validate_range_options); a percentile range of statistics without a sample falls back to
/// min-max (select_ranges rejects that case instead).
ActivationRange select_range(const ActivationStats& stats, const RangeOptions& options, int bits);

/// Ranges of every activation of one layer, as quantize_model consumes them.
struct LayerRanges {
  ActivationRange aggregation;  ///< message-passing layers
  ActivationRange message;      ///< transform-first SAGEConv, GATConv: the messages (aggregation bits)
  ActivationRange attention;    ///< GATConv: the attention logits (attention bits)
  std::vector<ActivationRange> hidden;  ///< GIN: one per MLP Dense but the last
  ActivationRange output;
};

/// Ranges of every activation of a model.
struct CalibrationRanges {
  ActivationRange input;
  std::vector<LayerRanges> layers;  ///< one per model layer
};

/// The ranges quantize_model needs, each activation with the bits it gets under `config` (input:
/// input_bits; aggregation: the layer's aggregation bits; GIN hidden and layer output: the layer's output
/// bits; the last layer's output 8 when config.int8_logits). Fails on invalid options, bits other than 4
/// or 8, statistics that do not cover `num_layers` layers, or percentile ranges from statistics collected
/// without a sample.
Result<CalibrationRanges> select_ranges(const CalibrationStats& stats, const RangeOptions& options,
                                        const QuantizerConfig& config, size_t num_layers);

/// Min-max ranges of every activation (collect_statistics, then select_ranges).
Result<CalibrationRanges> calibrate(const ModelDesc& float_model, const std::vector<GraphBatch>& batches);
/// Ranges with config.ranges and the bits of `config`.
Result<CalibrationRanges> calibrate(const ModelDesc& float_model, const std::vector<GraphBatch>& batches,
                                    const QuantizerConfig& config);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_CALIBRATION_H_
