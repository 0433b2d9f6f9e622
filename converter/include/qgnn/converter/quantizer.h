// Post-training quantization: a float forward pass over calibration graphs summarises every activation
// (calibration.h), and quantize_model turns a float ModelDesc plus the ranges chosen from those statistics
// into an integer one (docs/quantization.md). Weights are symmetric per output channel, activations
// asymmetric per tensor.
#ifndef QGNN_CONVERTER_QUANTIZER_H_
#define QGNN_CONVERTER_QUANTIZER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

// ---------------------------------------------------------------------------------------------------
// Float forward pass
// ---------------------------------------------------------------------------------------------------

/// Where an activation of the float forward pass comes from.
enum class ActivationPoint {
  kInput,        ///< the model's input features (layer = -1)
  kAggregation,  ///< a message-passing layer's aggregation result (transform-first GCNConv: its messages)
  kMessage,      ///< a transform-first SAGEConv's messages x W_n^T (its aggregation is their mean); GATConv's
  kAttention,    ///< GATConv's attention logits (after LeakyReLU), one per (edge or self-loop, head): cols 1
  kHidden,       ///< the output of GIN MLP Dense `index` (all but the last)
  kOutput,       ///< a layer's output (after its activation)
};

/// One activation tensor seen during the forward pass: `rows` x `cols` floats, row-major.
struct ActivationEvent {
  int layer = -1;
  ActivationPoint point = ActivationPoint::kInput;
  int index = 0;
  const float* values = nullptr;
  size_t rows = 0;
  size_t cols = 0;
  /// kAttention only: the values are softmax rows (one destination node and head: its self-loop, then its
  /// in-edges), row_count of them of row_sizes[r] logits each, in order.
  const int32_t* row_sizes = nullptr;
  size_t row_count = 0;
};
using ActivationCallback = std::function<void(const ActivationEvent&)>;

/// Runs a float model (ModelDesc.quantized == false) on a batch with the FP32 reference kernels and
/// returns the output, rows (graphs after pooling, else nodes) x classes. `on_activation` (optional) sees
/// every activation. Fails on an inconsistent model or a malformed batch.
Result<std::vector<float>> run_float_model(const ModelDesc& model, const GraphBatch& batch,
                                           const ActivationCallback& on_activation = nullptr);

// Calibration: calibration.h (statistics, range methods, calibrate).

// ---------------------------------------------------------------------------------------------------
// Quantization
// ---------------------------------------------------------------------------------------------------

/// Bits of each quantized component of a layer (docs/format.md, "Bits per layer and per component").
struct ComponentBits {
  int weights = 8;      ///< every Dense weight of the layer
  int aggregation = 8;  ///< the aggregation result (message-passing layers)
  int output = 8;       ///< the layer output, and GIN's hidden MLP activations
  /// GATConv's attention logits (8 or 4; the exp table serves both, 4-bit logits read entries 0..15).
  int attention = 8;
};

struct QuantizerConfig {
  int input_bits = 8;                       ///< quantization of the input features
  ComponentBits default_bits;               ///< every layer without an override
  std::map<int, ComponentBits> layer_bits;  ///< overrides by layer index
  /// Keep the last layer's output (the logits) at 8 bits whatever the layer's output bits say.
  bool int8_logits = true;
  RangeOptions ranges;  ///< range method of the overload that calibrates (and of calibrate(..., config))
};

/// Adjustments quantize_model made to keep every field inside the format's bounds, for humans.
struct QuantizationReport {
  std::vector<std::string> notes;
};

/// Asymmetric quantization of a range: the range is first widened to contain 0 (so real 0 is exact),
/// scale = (max - min) / (2^bits - 1), zero_point = round(qmin - min / scale) clamped to the bit range.
/// The scale is at least 2^-24 (the collapsed-range rule): an empty or degenerate range ([0, 0], an
/// activation that was always 0 on the calibration data) gets scale 2^-24 and zero_point = qmin, i.e. it
/// stays (almost) 0 on the device. Fails on non-finite bounds or bits not 4/8.
Result<QuantParams> activation_quant_params(const ActivationRange& range, int bits);

/// GATConv's softmax table for logits of scale `logit_scale`: entry k = round(2^15 exp(-logit_scale k)) in
/// double precision, halves away from zero (docs/quantization.md, "GAT attention (kernels)"), 256 entries.
std::vector<uint16_t> gat_exp_table(double logit_scale);

/// Quantize a float model with calibration ranges:
///  * weights symmetric per output channel, int8 in [-127, 127] or int4 in [-7, 7], s_w[c] = max|W_c| / qmax;
///  * biases int32 at s_in * s_w[c] (s_in = the scale of that Dense's input);
///  * activations asymmetric (activation_quant_params);
///  * requant: Dense s_in * s_w[c] / s_out (SAGE's root Dense uses the layer input's scale), aggregation
///    s_in / s_agg, pooling s_in / s_out; GIN self_weight_q16 = round((1 + eps) * 2^16).
/// Where a Dense requant factor would fall below 2^-32 (the smallest a Dense requant represents), or a
/// quantized bias would reach 2^30 in magnitude, the weight scale of that channel is raised (coarser
/// weights); where an aggregation / pooling factor falls below 2^-10 (their smallest, since MEAN adds up to
/// 22 to the shift) the output scale is lowered (the range is clipped). Each adjustment is recorded in
/// `report` (optional).
Result<ModelDesc> quantize_model(const ModelDesc& float_model, const CalibrationRanges& ranges,
                                 const QuantizerConfig& config, QuantizationReport* report = nullptr);

/// calibrate(float_model, calibration, config) (ranges by config.ranges), then quantize_model.
Result<ModelDesc> quantize_model(const ModelDesc& float_model, const std::vector<GraphBatch>& calibration,
                                 const QuantizerConfig& config, QuantizationReport* report = nullptr);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_QUANTIZER_H_
