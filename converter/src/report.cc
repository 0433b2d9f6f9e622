// Conversion report: weight SQNR and bytes per Dense, range, clipping and SQNR per activation (report.h).
#include "qgnn/converter/report.h"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace converter {
namespace {

namespace k = ::qgnn::kernels;

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorQ = Eigen::Matrix<int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr size_t kQuantParamsBytes = 1 + 4 + 4;  // bits (ubyte), scale (float), zero_point (int)

double sqnr_db(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

size_t requant_bytes(const Requant& r) { return 4 * (r.multiplier.size() + r.shift.size()); }

std::string dense_report(const std::string& name, const DenseDesc& f, const DenseDesc& q, DenseReport* out) {
  const size_t rows = static_cast<size_t>(q.out_features);
  const size_t cols = static_cast<size_t>(q.in_features);
  if (f.out_features != q.out_features || f.in_features != q.in_features || f.weight.size() != rows * cols ||
      q.weight_q.size() != rows * cols || q.weight_scales.size() != rows) {
    return name + ": the float and the quantized Dense differ in shape";
  }
  out->name = name;
  out->bits = q.weight_bits;
  out->out_features = rows;
  out->in_features = cols;
  const auto rows_i = static_cast<Eigen::Index>(rows);
  const auto cols_i = static_cast<Eigen::Index>(cols);
  const Eigen::MatrixXd w = Eigen::Map<const RowMajorF>(f.weight.data(), rows_i, cols_i).cast<double>();
  const Eigen::MatrixXd w_hat =
      Eigen::Map<const Eigen::VectorXf>(q.weight_scales.data(), rows_i).cast<double>().asDiagonal() *
      Eigen::Map<const RowMajorQ>(q.weight_q.data(), rows_i, cols_i).cast<double>();
  out->weight_sqnr_db = sqnr_db(w.squaredNorm(), (w - w_hat).squaredNorm());
  const size_t n = rows * cols;
  out->weight_bytes = q.weight_bits == 4 ? (n + 1) / 2 : n;
  out->bias_bytes = 4 * q.bias_q.size();
  out->quant_param_bytes = 4 * q.weight_scales.size() + requant_bytes(q.requant);
  return "";
}

// Quantization noise of one activation, accumulated over the calibration batches.
struct NoiseAccumulator {
  QuantParams params;
  double signal = 0.0, noise = 0.0;
  uint64_t values = 0, clipped = 0;

  void observe(const float* x, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const int32_t q = k::quantize_float(x[i], params.scale, params.zero_point, params.bits);
      const double e = static_cast<double>(x[i]) - k::dequantize(q, params.scale, params.zero_point);
      signal += static_cast<double>(x[i]) * x[i];
      noise += e * e;
      // Clipped: saturated at an end of the representable range by more than half a step.
      const bool low = q == k::qmin(params.bits) && x[i] < params.scale * (q - params.zero_point - 0.5);
      const bool high = q == k::qmax(params.bits) && x[i] > params.scale * (q - params.zero_point + 0.5);
      if (low || high) ++clipped;
    }
    values += count;
  }
};

struct LayerAccumulators {
  NoiseAccumulator aggregation;
  std::vector<NoiseAccumulator> hidden;
  NoiseAccumulator output;
};

ActivationReport activation_report(const std::string& name, const ActivationStats& stats,
                                   const NoiseAccumulator& acc) {
  ActivationReport a;
  a.name = name;
  a.bits = acc.params.bits;
  a.observed_min = stats.empty() ? 0.0f : stats.min;
  a.observed_max = stats.empty() ? 0.0f : stats.max;
  // The range the quantized activation represents (the chosen range widened to contain 0, as quantized):
  // what matters on the device, whether the range was calibrated or stored by quantization-aware training.
  a.range_min = acc.params.scale * static_cast<float>(k::qmin(a.bits) - acc.params.zero_point);
  a.range_max = acc.params.scale * static_cast<float>(k::qmax(a.bits) - acc.params.zero_point);
  a.scale = acc.params.scale;
  a.zero_point = acc.params.zero_point;
  a.values = acc.values;
  a.clipped_fraction =
      acc.values == 0 ? 0.0 : static_cast<double>(acc.clipped) / static_cast<double>(acc.values);
  a.sqnr_db = sqnr_db(acc.signal, acc.noise);
  return a;
}

class ReportBuilder {
 public:
  ReportBuilder(const ModelDesc& f, const ModelDesc& q, const CalibrationStats& stats,
                const RangeOptions& options)
      : f_(f), q_(q), stats_(stats), options_(options) {}

  std::string check() const {
    if (f_.quantized) return "the float model is quantized";
    if (!q_.quantized) return "the quantized model is not quantized";
    if (f_.layers.size() != q_.layers.size())
      return "the float and the quantized model differ in layer count";
    if (stats_.layers.size() != f_.layers.size()) return "the calibration statistics do not match the model";
    for (size_t i = 0; i < f_.layers.size(); ++i) {
      const LayerDesc& fl = f_.layers[i];
      const LayerDesc& ql = q_.layers[i];
      const std::string label = "layer " + std::to_string(i);
      if (fl.kind != ql.kind) return label + ": the float and the quantized layer differ in kind";
      // Activations are matched by layer index: both models must route them the same way.
      if (input_of(f_, i) != input_of(q_, i))
        return label + ": the float and the quantized layer differ in input";
      if (fl.mlp.size() != ql.mlp.size() || fl.has_root != ql.has_root)
        return label + ": the float and the quantized layer differ in structure";
      const size_t hidden = hidden_count(ql);
      if (ql.hidden.size() != hidden || stats_.layers[i].hidden.size() != hidden)
        return label + ": hidden activations do not match the GIN MLP";
    }
    return "";
  }

  std::string run(const std::vector<GraphBatch>& calibration, ConversionReport* out) {
    out->ranges = options_;
    prepare_accumulators();
    std::string error;
    const ActivationCallback callback = [&](const ActivationEvent& e) {
      find(e)->observe(e.values, e.rows * e.cols);
    };
    for (size_t b = 0; b < calibration.size(); ++b) {
      const Result<std::vector<float>> run = run_float_model(f_, calibration[b], callback);
      if (!run.ok()) return "calibration batch " + std::to_string(b) + ": " + run.error;
    }
    out->input.push_back(activation_report("input", stats_.input, input_));
    out->quant_param_bytes = kQuantParamsBytes;
    note_activation(out->input.back(), stats_.input, out);
    for (size_t i = 0; i < q_.layers.size(); ++i) {
      LayerReport layer;
      error = layer_report(i, out, &layer);
      if (!error.empty()) return error;
      for (const DenseReport& d : layer.dense) {
        out->weight_bytes += d.weight_bytes;
        out->bias_bytes += d.bias_bytes;
      }
      out->quant_param_bytes += layer.quant_param_bytes;
      out->layers.push_back(layer);
    }
    return "";
  }

 private:
  NoiseAccumulator accumulator(const ActivationStats& stats, const QuantParams& params) const {
    NoiseAccumulator a;
    a.params = params;
    return a;
  }

  void prepare_accumulators() {
    input_ = accumulator(stats_.input, q_.input_quant);
    layers_.resize(q_.layers.size());
    for (size_t i = 0; i < q_.layers.size(); ++i) {
      const LayerDesc& l = q_.layers[i];
      const LayerStats& s = stats_.layers[i];
      layers_[i].aggregation = accumulator(s.aggregation, l.aggregation);
      for (size_t h = 0; h < l.hidden.size(); ++h)
        layers_[i].hidden.push_back(accumulator(s.hidden[h], l.hidden[h]));
      layers_[i].output = accumulator(s.output, l.output);
    }
  }

  NoiseAccumulator* find(const ActivationEvent& e) {
    if (e.point == ActivationPoint::kInput) return &input_;
    LayerAccumulators& l = layers_[static_cast<size_t>(e.layer)];
    switch (e.point) {
      case ActivationPoint::kAggregation:
        return &l.aggregation;
      case ActivationPoint::kHidden:
        return &l.hidden[static_cast<size_t>(e.index)];
      default:
        return &l.output;
    }
  }

  // Notes what the numbers alone do not say: a percentile from a subsample.
  void note_activation(const ActivationReport& a, const ActivationStats& stats, ConversionReport* out) const {
    if (options_.method == RangeMethod::kPercentile && stats.subsampled()) {
      out->notes.push_back(a.name + ": percentiles from a uniform subsample of " +
                           std::to_string(stats.sample.size()) + " of " + std::to_string(stats.count) +
                           " values");
    }
  }

  void add_activation(const std::string& name, const ActivationStats& stats, const NoiseAccumulator& acc,
                      LayerReport* layer, ConversionReport* out) {
    layer->activations.push_back(activation_report(name, stats, acc));
    layer->quant_param_bytes += kQuantParamsBytes;
    note_activation(layer->activations.back(), stats, out);
  }

  std::string add_dense(const std::string& name, const DenseDesc& f, const DenseDesc& q, LayerReport* layer) {
    DenseReport d;
    const std::string error = dense_report(name, f, q, &d);
    if (!error.empty()) return error;
    layer->quant_param_bytes += d.quant_param_bytes;
    layer->dense.push_back(d);
    return "";
  }

  std::string layer_report(size_t i, ConversionReport* out, LayerReport* layer) {
    const LayerDesc& fl = f_.layers[i];
    const LayerDesc& ql = q_.layers[i];
    const LayerStats& s = stats_.layers[i];
    const LayerAccumulators& acc = layers_[i];
    layer->name = ql.name.empty() ? "layer" + std::to_string(i) : ql.name;
    const LayerKindTraits& kind = layer_traits(ql.kind);
    layer->kind = kind.name;
    const std::string& n = layer->name;
    if (kind.aggregation) {
      add_activation(n + ".aggregation", s.aggregation, acc.aggregation, layer, out);
      layer->quant_param_bytes += requant_bytes(ql.aggregation_requant);
    }
    for (size_t h = 0; h < ql.hidden.size(); ++h)
      add_activation(n + ".hidden" + std::to_string(h), s.hidden[h], acc.hidden[h], layer, out);
    add_activation(n + ".output", s.output, acc.output, layer, out);
    if (kind.reduction == Reduction::kNeighborsAndSelf) layer->quant_param_bytes += 4;  // self_weight_q16
    if (kind.reduction == Reduction::kGraphNodes) layer->quant_param_bytes += requant_bytes(ql.pool_requant);
    std::string error;
    for (const DenseOp& op : kind.dense_ops(ql)) {
      error = add_dense(n + "." + op.report_name, dense_of(fl, op), dense_of(ql, op), layer);
      if (!error.empty()) break;
    }
    return error;
  }

  const ModelDesc& f_;
  const ModelDesc& q_;
  const CalibrationStats& stats_;
  const RangeOptions& options_;
  NoiseAccumulator input_;
  std::vector<LayerAccumulators> layers_;
};

}  // namespace

Result<ConversionReport> build_report(const ModelDesc& float_model, const ModelDesc& quantized,
                                      const CalibrationStats& stats,
                                      const std::vector<GraphBatch>& calibration,
                                      const RangeOptions& options) {
  using R = Result<ConversionReport>;
  const Result<bool> valid = validate_range_options(options);
  if (!valid.ok()) return R::failure(valid.error);
  if (calibration.empty()) return R::failure("no calibration data");
  ReportBuilder builder(float_model, quantized, stats, options);
  std::string error = builder.check();
  if (!error.empty()) return R::failure("report: " + error);
  R r;
  error = builder.run(calibration, &r.value);
  if (!error.empty()) return R::failure("report: " + error);
  return r;
}

}  // namespace converter
}  // namespace qgnn
