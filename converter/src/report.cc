// Conversion report: weight SQNR and bytes per Dense, range, clipping and SQNR per activation (report.h).
#include "qgnn/converter/report.h"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/activation_check.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace {

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

  std::string run(double min_sqnr_db, ConversionReport* out) {
    out->ranges = options_;
    Result<std::vector<ActivationReport>> measured = measure_activations(q_, stats_);
    if (!measured.ok()) return measured.error;
    out->warnings = check_activations(&measured.value, min_sqnr_db);
    activations_ = std::move(measured.value);
    next_ = 0;
    out->input.push_back(activations_[next_++]);
    out->quant_param_bytes = kQuantParamsBytes;
    note_activation(out->input.back(), stats_.input, out);
    for (size_t i = 0; i < q_.layers.size(); ++i) {
      LayerReport layer;
      const std::string error = layer_report(i, out, &layer);
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
  // Notes what the numbers alone do not say: a percentile, SQNR and clipping from a subsample.
  void note_activation(const ActivationReport& a, const ActivationStats& stats, ConversionReport* out) const {
    if (stats.subsampled()) {
      const bool percentile = options_.method == RangeMethod::kPercentile;
      out->notes.push_back(a.name + ": " + (percentile ? "percentiles, " : "") +
                           "SQNR and clipping from a uniform subsample of " +
                           std::to_string(stats.sample.size()) + " of " +
                           std::to_string(stats.nonzero_count) + " non-zero values");
    }
  }

  // The next measured activation, in measure_activations' order (the order layer_report asks for them).
  void add_activation(const ActivationStats& stats, LayerReport* layer, ConversionReport* out) {
    layer->activations.push_back(activations_[next_++]);
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
    layer->name = ql.name.empty() ? "layer" + std::to_string(i) : ql.name;
    const LayerKindTraits& kind = layer_traits(ql.kind);
    layer->kind = kind.name;
    const std::string& n = layer->name;
    if (kind.aggregation) {
      add_activation(s.aggregation, layer, out);
      layer->quant_param_bytes += requant_bytes(ql.aggregation_requant);
    }
    if (kind.attention) {  // GATConv: messages, logits, their requants, the exp table and the output requant
      add_activation(s.message, layer, out);
      add_activation(s.attention, layer, out);
      if (measures_alpha(s, ql)) {  // alpha: measured on whole rows, no stored parameters
        layer->activations.push_back(activations_[next_++]);
        if (s.attention_rows.logits.size() < s.attention.count) {
          out->notes.push_back(layer->activations.back().name + ": SQNR over the first " +
                               std::to_string(s.attention_rows.sizes.size()) + " softmax rows (" +
                               std::to_string(s.attention_rows.logits.size()) + " of " +
                               std::to_string(s.attention.count) + " attention weights)");
        }
      }
      layer->quant_param_bytes += requant_bytes(ql.logit_requant) + requant_bytes(ql.logit_negative_requant) +
                                  requant_bytes(ql.output_requant) + 2 * ql.exp_table.size() +
                                  2 * sizeof(float);  // the scales of a_src and a_dst
    }
    for (size_t h = 0; h < ql.hidden.size(); ++h) add_activation(s.hidden[h], layer, out);
    add_activation(s.output, layer, out);
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
  std::vector<ActivationReport> activations_;  ///< measure_activations, checked
  size_t next_ = 0;
};

}  // namespace

Result<ConversionReport> build_report(const ModelDesc& float_model, const ModelDesc& quantized,
                                      const CalibrationStats& stats, const RangeOptions& options,
                                      double min_sqnr_db) {
  using R = Result<ConversionReport>;
  const Result<bool> valid = validate_range_options(options);
  if (!valid.ok()) return R::failure(valid.error);
  ReportBuilder builder(float_model, quantized, stats, options);
  std::string error = builder.check();
  if (!error.empty()) return R::failure("report: " + error);
  R r;
  error = builder.run(min_sqnr_db, &r.value);
  if (!error.empty()) return R::failure("report: " + error);
  return r;
}

}  // namespace converter
}  // namespace qgnn
