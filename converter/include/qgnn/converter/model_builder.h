// Model description and writer: the offline, std::-using side of qgnn. A `ModelDesc` is plain data
// (float or quantized); `serialize_model` turns it into a .qgnn FlatBuffer; `quantize_model` turns a float
// description plus calibration ranges into a quantized one. Used by tests now and by qgnn-convert.
#ifndef QGNN_CONVERTER_MODEL_BUILDER_H_
#define QGNN_CONVERTER_MODEL_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qgnn {
namespace converter {

/// Error-or-value, no exceptions (ExecuTorch style). `ok()` is true when `error` is empty.
template <typename T>
struct Result {
  T value{};
  std::string error;
  bool ok() const { return error.empty(); }
  static Result failure(std::string message) {
    Result r;
    r.error = std::move(message);
    return r;
  }
};

enum class Task { kGraphClassification = 0, kNodeClassification = 1 };
enum class LayerKind { kLinear, kGcnConv, kSageConv, kGinConv, kGlobalPool, kGatConv };
enum class Reduce { kSum = 0, kMean = 1, kMax = 2 };
/// What a message-passing layer runs first (schema LayerOrder; docs/quantization.md, "Transform-first").
enum class LayerOrder { kAggregateFirst = 0, kTransformFirst = 1 };

/// Asymmetric activation quantization (schema QuantParams).
struct QuantParams {
  int bits = 8;
  float scale = 1.0f;
  int32_t zero_point = 0;
};

/// Fixed-point rescale arrays (schema Requant): one entry per output channel, or exactly one.
struct Requant {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
};

/// Closed range [min, max] of an activation stored in a float model (schema Range): the ranges QAT ended
/// with, which a converter may quantize with instead of calibrating (stored_ranges.h).
struct StoredRange {
  float min = 0.0f;
  float max = 0.0f;
};

/// Unfolded BatchNorm after a Dense (schema BatchNorm), float models only: applied after the bias and before
/// the activation, y_c = (acc_c - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]. fold_batch_norm
/// (batch_norm.h) folds it into the Dense.
struct BatchNormDesc {
  std::vector<float> mean;   ///< [out]
  std::vector<float> var;    ///< [out], >= 0
  std::vector<float> gamma;  ///< [out]
  std::vector<float> beta;   ///< [out]
  float eps = 1e-5f;         ///< > 0
};

/// y = x W^T + b. Float models fill `weight`/`bias`; quantized models fill the *_q fields.
struct DenseDesc {
  int32_t out_features = 0;
  int32_t in_features = 0;
  // Float parameters.
  std::vector<float> weight;  ///< [out][in] row-major
  std::vector<float> bias;    ///< [out] or empty
  // Quantized parameters.
  int weight_bits = 8;               ///< 8 or 4
  std::vector<int8_t> weight_q;      ///< [out][in] unpacked values (int4 in [-7, 7]), packed on write
  std::vector<float> weight_scales;  ///< [out] symmetric per-channel scales
  std::vector<int32_t> bias_q;       ///< [out] or empty
  Requant requant;                   ///< [out] entries
  /// Activation fused after this Dense (GIN MLP hidden layers).
  bool relu = false;
  /// Float models: BatchNorm after the bias, before the activation. On a SAGEConv's neighbour Dense it
  /// normalises the layer's whole sum (neighbour + root); a root Dense never has one.
  std::optional<BatchNormDesc> batch_norm;
};

struct LayerDesc {
  LayerKind kind = LayerKind::kLinear;
  std::string name;
  bool relu = false;                ///< activation fused at the end of the layer
  DenseDesc dense;                  ///< Linear, GCNConv; SAGEConv's neighbour Dense
  bool has_root = false;            ///< SAGEConv root weight present
  DenseDesc root;                   ///< SAGEConv root Dense
  std::vector<DenseDesc> mlp;       ///< GINConv MLP
  Reduce reduce = Reduce::kSum;     ///< SAGEConv (kMean/kMax), GlobalPool
  float eps = 0.0f;                 ///< GINConv
  int32_t self_weight_q16 = 65536;  ///< GINConv quantized: round((1 + eps) * 2^16)
  /// GCNConv and MEAN SAGEConv (LayerKindTraits::transform_first): kTransformFirst runs the (neighbour)
  /// Dense first and aggregates its messages.
  /// GCNConv: `aggregation`, `aggregation_range` and the SPEC component `agg` then describe the messages,
  /// the layer's one intermediate activation (the file's GCNConvOptions.message / message_range), and the
  /// Dense's quantized bias is at the message scale (docs/quantization.md, "Transform-first GCNConv").
  /// SAGEConv: the messages are `message` / `message_range`, the mean of the messages `aggregation` /
  /// `aggregation_range` (the SPEC component `agg` sets both), the neighbour bias is at the aggregation scale
  /// and `output_requant` rescales onto the output ("Transform-first SAGEConv").
  LayerOrder order = LayerOrder::kAggregateFirst;
  // Quantized models only.
  QuantParams output;               ///< layer output
  QuantParams aggregation;          ///< message-passing layers: the aggregation, or the messages (see order)
  std::vector<QuantParams> hidden;  ///< GIN MLP hidden outputs (mlp.size() - 1)
  Requant aggregation_requant;      ///< one entry (message-passing layers)
  Requant pool_requant;             ///< one entry (GlobalPool)
  QuantParams message;              ///< transform-first SAGEConv: the messages x W_n^T
  Requant output_requant;  ///< transform-first SAGEConv: one entry, aggregation -> output (Dense rule)
  // GATConv (docs/quantization.md, "GATConv"): `dense` is W of every head ([heads * head_dim, in], no bias),
  // `message` / `message_range` its messages, `output_requant` one entry per output column.
  int32_t heads = 1;
  int32_t head_dim = 0;
  bool concat = true;                  ///< heads concatenated ([heads * head_dim] outputs) or averaged
  std::vector<float> att_src;          ///< float: a_src of every head, [heads * head_dim]
  std::vector<float> att_dst;          ///< float: a_dst, [heads * head_dim]
  std::vector<float> output_bias;      ///< float: [output columns] or empty
  std::vector<int8_t> att_src_q;       ///< quantized: symmetric int8 [heads * head_dim]
  std::vector<int8_t> att_dst_q;       ///< quantized: symmetric int8 [heads * head_dim]
  float att_scale = 1.0f;              ///< quantized: the one scale of att_src_q and att_dst_q
  std::vector<int32_t> output_bias_q;  ///< quantized: at message.scale / 256 (mean: / (256 H)), or empty
  QuantParams logit;                   ///< quantized: the attention logits (8 bits)
  Requant logit_requant;               ///< quantized: one entry, a non-negative term sum onto `logit`
  Requant logit_negative_requant;      ///< quantized: one entry, a negative sum (LeakyReLU's 0.2 folded in)
  std::vector<uint16_t> exp_table;     ///< quantized: 256 entries, Q15 exp(-logit.scale * k)
  // Stored ranges (converter metadata, any model; see stored_ranges.h).
  std::optional<StoredRange> output_range;       ///< the layer's output, after its activation
  std::optional<StoredRange> aggregation_range;  ///< message-passing layers
  std::vector<StoredRange> hidden_ranges;        ///< GINConv: mlp.size() - 1 entries, or none
  std::optional<StoredRange> message_range;  ///< SAGEConv: the messages x W_n^T (transform-first); GATConv
  std::optional<StoredRange> logit_range;    ///< GATConv: the attention logits (after LeakyReLU)
  /// Explicit dataflow (schema Layer.inputs): the outputs this layer reads, by layer index, each earlier than
  /// this layer, -1 naming the model input. Empty: the previous layer's output (the model input for the first
  /// layer), as in versions 1 and 2. Every kind reads one input, so a non-empty list is a skip connection.
  /// Passes ask input_of() instead of assuming a chain.
  std::vector<int32_t> inputs;
};

struct LimitsDesc {
  uint32_t max_nodes = 0, max_edges = 0, max_degree = 0, max_graphs = 0;
};

/// Format version of a description that asks for nothing newer: serialize_model writes it unless the model
/// has an unfolded BatchNorm (kBatchNormFormatVersion) or lists layer inputs (kDataflowFormatVersion).
constexpr uint32_t kModelFormatVersion = 1;
/// Version of files with an unfolded BatchNorm (`DenseDesc::batch_norm`): serialize_model writes it for them,
/// so runtimes that predate the field reject them instead of computing the model without it.
constexpr uint32_t kBatchNormFormatVersion = 2;
/// Version of files whose layers list their `inputs`: serialize_model writes it for them, so runtimes that
/// predate the field reject them instead of running the layers as a chain.
constexpr uint32_t kDataflowFormatVersion = 3;
/// Version of files with per-column input scales (`ModelDesc::input_column_scales`): older runtimes would
/// quantize every column with the one input scale.
constexpr uint32_t kInputColumnsFormatVersion = 4;
/// Version of files with a transform-first layer (`LayerDesc::order`): older runtimes would aggregate first.
constexpr uint32_t kTransformFirstFormatVersion = 5;
/// Version of files with a transform-first SAGEConv (SAGEConvOptions.order): older runtimes would aggregate
/// first.
constexpr uint32_t kTransformFirstSageFormatVersion = 6;
/// Newest version the converter reads and writes (QGNN_FORMAT_VERSION of include/qgnn/qgnn.h).
constexpr uint32_t kNewestFormatVersion = kTransformFirstSageFormatVersion;

/// Index of the model input in LayerDesc::inputs.
constexpr int32_t kModelInput = -1;

struct ModelDesc {
  uint32_t version = kModelFormatVersion;
  std::string name;
  std::string description;
  std::string producer = "qgnn-converter";
  Task task = Task::kGraphClassification;
  std::vector<std::string> class_names;
  bool quantized = false;
  int32_t input_dim = 0;
  bool input_int8 = false;  ///< quantized models: features arrive as int8
  QuantParams input_quant;  ///< quantized models
  /// Quantized models, optional: one scale per input column (input_dim entries, finite, > 0) used instead of
  /// input_quant.scale to quantize float features (docs/quantization.md, "Per-column input scales"); the
  /// Dense ops reading the input hold the gains column_scale / input_quant.scale folded into their weights.
  std::vector<float> input_column_scales;
  std::vector<LayerDesc> layers;
  LimitsDesc limits;
  std::optional<StoredRange> input_range;  ///< stored range of the input features
  std::string ranges_source;               ///< where the stored ranges come from (schema Model.ranges_source)
};

/// Serialize a description into .qgnn bytes (identifier "QGNN"). Checks the description's own
/// consistency (dims chain, parameter counts) and returns an error instead of writing a bad model.
Result<std::vector<uint8_t>> serialize_model(const ModelDesc& model);

/// Same as serialize_model without the consistency checks: writes whatever the description holds as a
/// well-formed FlatBuffer (wrong dims, bad scales, missing fields...). For negative tests of readers.
/// Quantized int4 weights are packed from `weight_q` as given (values are masked to 4 bits).
Result<std::vector<uint8_t>> serialize_model_unchecked(const ModelDesc& model);

/// The consistency checks of serialize_model on their own: `ok()` when the description can be written.
/// Includes the float-model metadata: BatchNorm only in float models and never on a SAGE root Dense (lengths
/// = out_features, finite, var >= 0, eps > 0), and stored ranges for every activation or for none (finite,
/// min <= max, no aggregation range on a layer without aggregation).
/// The error names the layer and the field, e.g.
/// "layer 1 (conv2): dense has 16 input features, expected 32".
Result<bool> check_model(const ModelDesc& model);

/// The output layer `layer` reads: its one declared input, or the previous layer (kModelInput for layer 0)
/// when it declares none. Every pass routes a layer's input through this, so skip connections need nothing
/// else. Meaningful for models check_model accepts (indices in [-1, layer), one input per layer).
int32_t input_of(const ModelDesc& model, size_t layer);
/// Quantized models: the quantization of what layer `layer` reads (its producer's output quantization, or the
/// model input's), the scale its aggregation, pooling and layer-input Dense ops rescale from.
const QuantParams& input_quant_of(const ModelDesc& model, size_t layer);

/// The largest in-degree a quantized GATConv averaging `heads` heads takes: H (deg + 1) <= 2^22 keeps the
/// int32 sum over heads below 2^30 (docs/quantization.md, "GAT attention (kernels)"). check_model requires
/// LimitsDesc::max_degree <= it for such a layer (heads >= 2), and quantize_model sets it.
uint32_t gat_mean_max_degree(int32_t heads);

/// Read .qgnn bytes back into a description (float or quantized). Runs the FlatBuffers verifier, then
/// checks indices, tensor types and buffer sizes; int4 weights are unpacked. The result is not
/// re-checked for consistency: call check_model for that.
Result<ModelDesc> parse_model(const uint8_t* data, size_t size);
Result<ModelDesc> parse_model(const std::vector<uint8_t>& bytes);

/// Write bytes to `path` atomically (temporary file in the same directory, fsync, rename). On failure the
/// target is unchanged and no temporary file is left behind.
Result<bool> write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

/// Read a whole file.
Result<std::vector<uint8_t>> read_file(const std::string& path);

/// Range of a Requant entry (schema Requant): every multiplier in [2^30, 2^31 - 1], every shift >= 1. The
/// largest shift depends on what the requant rescales:
///  * a Dense (per output channel, `DenseDesc::requant`): shift <= 62, reals [2^-32, 2^30). The dense
///    accumulator is an int32 and the multiplier < 2^31, so |acc * multiplier| < 2^62 for any shift.
///  * aggregation and global pooling (one entry, `aggregation_requant` and `pool_requant`): shift <= 40,
///    reals [2^-10, 2^30). MEAN adds up to 22 to the shift (kernels mean_rescale) and 40 + 22 = 62.
constexpr int32_t kRequantMultiplierMin = int32_t{1} << 30;
constexpr int32_t kRequantShiftMin = 1;
constexpr int32_t kDenseRequantShiftMax = 62;
constexpr int32_t kAggregationRequantShiftMax = 40;
/// Smallest real multiplier quantize_multiplier accepts with each maximum shift: 2^30 * 2^-max_shift.
constexpr double kDenseRequantRealMin = 1.0 / 4294967296.0;  // 2^-32
constexpr double kAggregationRequantRealMin = 1.0 / 1024.0;  // 2^-10
/// Reals at or above this are rejected: (2^31 - 1) * 2^-1 rounds to 2^30.
constexpr double kRequantRealLimit = 1073741824.0;

/// Runtime bounds a writer must respect (docs/format.md, "Verification"): features per node of any layer,
/// and |quantized bias| (so bias + the largest dot product fits the int32 accumulator).
constexpr int32_t kMaxFeatures = 32768;
constexpr int32_t kMaxBiasMagnitude = int32_t{1} << 30;

/// Fixed-point (multiplier in [2^30, 2^31), shift in [1, max_shift]) for a positive real multiplier, as
/// real ≈ multiplier * 2^-shift (relative error <= 2^-31). `max_shift` is kDenseRequantShiftMax for a Dense,
/// kAggregationRequantShiftMax for aggregation and pooling (any value in [1, 62] is accepted). Fails when
/// `real` is not finite, <= 0, or outside [2^(30 - max_shift), kRequantRealLimit) (after rounding), or when
/// `max_shift` is outside [1, 62].
/// Returns {multiplier, shift}.
Result<std::pair<int32_t, int32_t>> quantize_multiplier(double real, int32_t max_shift);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_MODEL_BUILDER_H_
