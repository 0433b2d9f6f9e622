// Float ModelDesc + activation ranges -> quantized ModelDesc (docs/quantization.md).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/batch_norm.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace {

int32_t bits_min(int bits) { return -(1 << (bits - 1)); }
int32_t bits_max(int bits) { return (1 << (bits - 1)) - 1; }

bool valid_bits(int bits) { return bits == 4 || bits == 8; }

// Scales are chosen a hair inside the format's bounds so float rounding of the stored scales cannot push a
// requant factor below its minimum (2^-32 for a Dense, 2^-10 for aggregation and pooling) or a quantized
// bias out of (-2^30, 2^30).
constexpr double kMargin = 1.0 + 1e-5;
constexpr double kMinActivationScale = 1.0 / 16777216.0;  // 2^-24
constexpr double kDenseRequantFloor = kDenseRequantRealMin * kMargin;
constexpr double kAggregationRequantFloor = kAggregationRequantRealMin * kMargin;
constexpr double kBiasLimit = static_cast<double>(kMaxBiasMagnitude - 1);

class Quantizer {
 public:
  Quantizer(const ModelDesc& float_model, const CalibrationRanges& ranges, const QuantizerConfig& config,
            QuantizationReport* report)
      : float_model_(float_model), ranges_(ranges), config_(config), report_(report) {}

  std::string run(ModelDesc* out) {
    *out = float_model_;
    out->quantized = true;
    out->input_int8 = false;
    out->producer = "qgnn-converter";
    out->description = float_model_.description.empty()
                           ? "post-training quantized by qgnn-converter"
                           : float_model_.description + "; post-training quantized by qgnn-converter";
    if (!valid_bits(config_.input_bits)) return "input bits must be 4 or 8";
    std::string e = quant_params(ranges_.input, config_.input_bits, "input", &out->input_quant);
    if (!e.empty()) return e;
    for (size_t i = 0; i < out->layers.size() && e.empty(); ++i) {
      LayerDesc& layer = out->layers[i];
      label_ = "layer " + std::to_string(i) + " (" + layer.name + ")";
      ComponentBits bits = config_.default_bits;
      const auto override_it = config_.layer_bits.find(static_cast<int>(i));
      if (override_it != config_.layer_bits.end()) bits = override_it->second;
      if (!valid_bits(bits.weights) || !valid_bits(bits.aggregation) || !valid_bits(bits.output)) {
        return label_ + ": bits must be 4 or 8";
      }
      const bool last = i + 1 == out->layers.size();
      const int output_bits = last && config_.int8_logits ? 8 : bits.output;
      // The producer is earlier, so its output quantization is already final.
      const QuantParams in = input_quant_of(*out, i);
      e = quantize_layer(ranges_.layers[i], bits, output_bits, in, &layer);
    }
    if (!e.empty()) return label_ + ": " + e;
    bound_mean_heads(out);
    const Result<bool> checked = check_model(*out);
    if (!checked.ok()) return "internal error, the quantized model is inconsistent: " + checked.error;
    return "";
  }

 private:
  void note(const std::string& text) {
    if (report_) report_->notes.push_back(label_ + ": " + text);
  }

  static std::string quant_params(const ActivationRange& range, int bits, const std::string& what,
                                  QuantParams* out) {
    const Result<QuantParams> q = activation_quant_params(range, bits);
    if (!q.ok()) return what + ": " + q.error;
    *out = q.value;
    return "";
  }

  // Requant for aggregation / pooling: s_in / s_out. Below the format's minimum (2^-10: MEAN adds up to 22
  // to the shift) the output scale is lowered (the output range is clipped), since the input scale is fixed
  // by the layer (or model input) producing it.
  std::string scalar_requant(float s_in, QuantParams* out_q, const std::string& what, Requant* requant) {
    if (static_cast<double>(s_in) / out_q->scale < kAggregationRequantFloor) {
      const float lowered = static_cast<float>(s_in / kAggregationRequantFloor);
      note(what + " scale lowered from " + std::to_string(out_q->scale) + " to " + std::to_string(lowered) +
           " (requant factor below 2^-10): its range is clipped");
      out_q->scale = lowered;
    }
    const auto m = quantize_multiplier(static_cast<double>(s_in) / out_q->scale, kAggregationRequantShiftMax);
    if (!m.ok()) return what + " requant: " + m.error;
    *requant = Requant{{m.value.first}, {m.value.second}};
    return "";
  }

  // Symmetric per-channel weights, int32 bias at s_in * s_w[c], requant s_in * s_w[c] / s_out.
  std::string quantize_dense(DenseDesc* d, int bits, float s_in, float s_out, const std::string& what) {
    const size_t out = static_cast<size_t>(d->out_features);
    const size_t in = static_cast<size_t>(d->in_features);
    const int32_t q_limit = bits_max(bits);
    d->weight_bits = bits;
    d->weight_q.assign(out * in, 0);
    d->weight_scales.assign(out, 1.0f);
    d->requant = Requant{};
    d->bias_q.assign(d->bias.size(), 0);
    // Weight scales below this give a requant factor s_in * s_w / s_out under 2^-32.
    const double requant_floor = kDenseRequantFloor * s_out / s_in;
    size_t raised = 0;
    for (size_t c = 0; c < out; ++c) {
      const float* row = d->weight.data() + c * in;
      float max_abs = 0.0f;
      for (size_t k = 0; k < in; ++k) max_abs = std::max(max_abs, std::fabs(row[k]));
      // The requant factor must be representable and the bias, at scale s_in * s_w, must stay below 2^30 in
      // magnitude: a channel with tiny (or zero) weights gets a coarser weight scale; its weights then use
      // fewer integer levels.
      const double bias_abs = d->bias.empty() ? 0.0 : std::fabs(static_cast<double>(d->bias[c]));
      const double s_w_floor =
          std::max(requant_floor, kMargin * bias_abs / (static_cast<double>(s_in) * kBiasLimit));
      float s_w = max_abs / static_cast<float>(q_limit);
      if (!(s_w >= s_w_floor)) {
        if (max_abs > 0.0f) ++raised;
        s_w = static_cast<float>(s_w_floor);
      }
      if (!std::isfinite(s_w) || s_w <= 0.0f)
        return what + ": channel " + std::to_string(c) + " has no valid scale";
      d->weight_scales[c] = s_w;
      for (size_t k = 0; k < in; ++k) {
        const long q = std::lround(row[k] / s_w);
        d->weight_q[c * in + k] = static_cast<int8_t>(std::clamp<long>(q, -q_limit, q_limit));
      }
      const double bias_scale = static_cast<double>(s_in) * s_w;
      if (!d->bias.empty()) {
        // s_w >= the bias floor, so |q| < 2^30 - 1; the clamp only keeps the conversion defined.
        const double q = std::round(d->bias[c] / bias_scale);
        d->bias_q[c] = static_cast<int32_t>(std::clamp(q, -kBiasLimit, kBiasLimit));
      }
      const auto m = quantize_multiplier(bias_scale / s_out, kDenseRequantShiftMax);
      if (!m.ok()) return what + " channel " + std::to_string(c) + " requant: " + m.error;
      d->requant.multiplier.push_back(m.value.first);
      d->requant.shift.push_back(m.value.second);
    }
    if (raised > 0) {
      note(what + ": weight scale raised on " + std::to_string(raised) + " of " + std::to_string(out) +
           " channels (requant factor below 2^-32, or |bias| / (s_in * s_w) at least 2^30)");
    }
    d->weight.clear();
    d->bias.clear();
    return "";
  }

  std::string quantize_layer(const LayerRanges& r, const ComponentBits& bits, int output_bits,
                             const QuantParams& in, LayerDesc* layer) {
    const LayerKindTraits& kind = layer_traits(layer->kind);
    std::string e = quant_params(r.output, output_bits, "output", &layer->output);
    if (!e.empty()) return e;
    if (kind.attention) return quantize_attention(r, bits, in, layer);
    if (layer->order == LayerOrder::kTransformFirst) {
      return layer->kind == LayerKind::kSageConv ? quantize_transform_first_sage(r, bits, in, layer)
                                                 : quantize_transform_first(r, bits, in, layer);
    }
    if (kind.aggregation) {
      e = quant_params(r.aggregation, bits.aggregation, "aggregation", &layer->aggregation);
      if (e.empty())
        e = scalar_requant(in.scale, &layer->aggregation, "aggregation", &layer->aggregation_requant);
      if (!e.empty()) return e;
    }
    if (kind.reduction == Reduction::kNeighborsAndSelf) {
      const double self_weight = std::round((1.0 + static_cast<double>(layer->eps)) * 65536.0);
      if (!(self_weight >= 0.0 && self_weight < static_cast<double>(1 << 23))) {
        return "GIN eps " + std::to_string(layer->eps) + " is outside [-1, 127)";
      }
      layer->self_weight_q16 = static_cast<int32_t>(self_weight);
    }
    if (kind.reduction == Reduction::kGraphNodes)
      return scalar_requant(in.scale, &layer->output, "pool output", &layer->pool_requant);
    if (r.hidden.size() != hidden_count(*layer)) return "calibration ranges do not match the GIN MLP";
    layer->hidden.resize(r.hidden.size());
    for (const DenseOp& op : kind.dense_ops(*layer)) {
      // A hidden activation is quantized with the output bits, before the Dense writing it needs its scale.
      if (op.output_hidden >= 0) {
        const size_t h = static_cast<size_t>(op.output_hidden);
        e = quant_params(r.hidden[h], bits.output, "hidden " + std::to_string(h), &layer->hidden[h]);
        if (!e.empty()) return e;
      }
      const float s_in = op.input == DenseInput::kLayerInput    ? in.scale
                         : op.input == DenseInput::kAggregation ? layer->aggregation.scale
                                                                : layer->hidden[op.input_hidden].scale;
      const float s_out = op.output_hidden >= 0 ? layer->hidden[static_cast<size_t>(op.output_hidden)].scale
                                                : layer->output.scale;
      e = quantize_dense(&dense_of(*layer, op), bits.weights, s_in, s_out, op.what);
      if (!e.empty()) return e;
    }
    return "";
  }

  // A transform-first layer adds its Dense's bias after the aggregation, at the scale of `q` (its messages,
  // or a SAGEConv's aggregation): takes the float bias out of `d` and raises q's scale where a bias would
  // reach 2^30 steps (as a Dense raises s_w), so the INT32 bias store_bias writes stays in range.
  std::vector<float> take_bias_at(DenseDesc* d, const std::string& what, QuantParams* q) {
    std::vector<float> bias = std::move(d->bias);
    d->bias.clear();
    double largest = 0.0;
    for (float b : bias) largest = std::max(largest, std::fabs(static_cast<double>(b)));
    const double floor = kMargin * largest / kBiasLimit;
    if (!(static_cast<double>(q->scale) >= floor)) {
      note(what + " scale raised from " + std::to_string(q->scale) + " so that the bias stays below 2^30 " +
           what + " steps");
      q->scale = static_cast<float>(floor);
    }
    return bias;
  }

  static void store_bias(const std::vector<float>& bias, double scale, DenseDesc* d) {
    d->bias_q.assign(bias.size(), 0);
    for (size_t c = 0; c < bias.size(); ++c) {
      // std::round: halves away from zero; |q| < 2^30 - 1 after take_bias_at, the clamp keeps it defined.
      const double q = std::round(static_cast<double>(bias[c]) / scale);
      d->bias_q[c] = static_cast<int32_t>(std::clamp(q, -kBiasLimit, kBiasLimit));
    }
  }

  // Transform-first (docs/quantization.md): the Dense maps the input onto the messages
  // (LayerDesc::aggregation) without its bias, with the weight scales of a bias-free Dense; the aggregation
  // of the messages adds the bias, at the message scale (raised where a bias would reach 2^30 steps, as a
  // Dense raises s_w), and rescales onto the output. qgnn.qat.quantizer.quantize_transform_first is the same
  // rule.
  std::string quantize_transform_first(const LayerRanges& r, const ComponentBits& bits, const QuantParams& in,
                                       LayerDesc* layer) {
    std::string e = quant_params(r.aggregation, bits.aggregation, "message", &layer->aggregation);
    if (!e.empty()) return e;
    DenseDesc& d = layer->dense;
    const std::vector<float> bias = take_bias_at(&d, "message", &layer->aggregation);
    e = quantize_dense(&d, bits.weights, in.scale, layer->aggregation.scale, "dense");
    if (!e.empty()) return e;
    store_bias(bias, layer->aggregation.scale, &d);
    return scalar_requant(layer->aggregation.scale, &layer->output, "output", &layer->aggregation_requant);
  }

  // Transform-first SAGEConv (docs/quantization.md, "Transform-first SAGEConv"): the neighbour Dense maps
  // the input onto the messages without its bias; their mean is rescaled onto the aggregation (s_m / s_a);
  // the output step adds the neighbour bias at the aggregation scale (raised where a bias would reach 2^30
  // steps), rescales by output_requant (s_a / s_out, a Dense's rule) and adds the root term, quantized as
  // aggregate-first (s_in * s_wr[c] / s_out).
  std::string quantize_transform_first_sage(const LayerRanges& r, const ComponentBits& bits,
                                            const QuantParams& in, LayerDesc* layer) {
    std::string e = quant_params(r.message, bits.aggregation, "message", &layer->message);
    if (e.empty()) e = quant_params(r.aggregation, bits.aggregation, "aggregation", &layer->aggregation);
    if (!e.empty()) return e;
    DenseDesc& d = layer->dense;
    const std::vector<float> bias = take_bias_at(&d, "aggregation", &layer->aggregation);
    e = scalar_requant(layer->message.scale, &layer->aggregation, "aggregation", &layer->aggregation_requant);
    if (e.empty()) e = quantize_dense(&d, bits.weights, in.scale, layer->message.scale, "neighbor dense");
    if (!e.empty()) return e;
    const double s_a = layer->aggregation.scale;
    store_bias(bias, s_a, &d);
    const auto m = quantize_multiplier(s_a / layer->output.scale, kDenseRequantShiftMax);
    if (!m.ok()) return "output requant: " + m.error;
    layer->output_requant = Requant{{m.value.first}, {m.value.second}};
    if (!layer->has_root) return "";
    return quantize_dense(&layer->root, bits.weights, in.scale, layer->output.scale, "root dense");
  }

  // A Dense-rule requant (shift <= 62) of `real`; below 2^-32 the factor is raised to it (what it rescales
  // then reads a little larger), which the caller's scales make rare.
  std::string dense_rule_requant(double real, const std::string& what, Requant* out) {
    if (!(real >= kDenseRequantFloor)) {
      note(what + " requant factor " + std::to_string(real) + " raised to 2^-32");
      real = kDenseRequantFloor;
    }
    const auto m = quantize_multiplier(real, kDenseRequantShiftMax);
    if (!m.ok()) return what + " requant: " + m.error;
    out->multiplier.push_back(m.value.first);
    out->shift.push_back(m.value.second);
    return "";
  }

  // GATConv (docs/quantization.md, "GATConv"): the messages at their calibrated scale s_m (raised where the
  // output bias, at s_m / (256 H'), would reach 2^30 steps), W onto them as a bias-free Dense, a_src and
  // a_dst symmetric int8 at one scale s_a, the logits at theirs s_e (8 or 4 bits, the `att` component;
  // s_e lowered where the negative factor 0.2 s_m s_a / s_e would fall below 2^-32: the logit range is
  // clipped), the exp table for s_e (4-bit logits read its first 16 entries), and
  // the output rescale s_m / (256 H' s_out). H' is 1 for concat and H for the mean of heads: the kernel adds
  // the bias to the sum over heads, H times their mean, before the one rescale that divides by H, so the bias
  // must be H times finer than the sum's own step s_m / 256 to come out as b after the division.
  std::string quantize_attention(const LayerRanges& r, const ComponentBits& bits, const QuantParams& in,
                                 LayerDesc* layer) {
    std::string e = quant_params(r.message, bits.aggregation, "message", &layer->message);
    if (e.empty()) e = quant_params(r.attention, bits.attention, "attention logits", &layer->logit);
    if (!e.empty()) return e;
    const double heads = layer->concat ? 1.0 : static_cast<double>(layer->heads);
    double largest_bias = 0.0;
    for (float b : layer->output_bias)
      largest_bias = std::max(largest_bias, std::fabs(static_cast<double>(b)));
    const double message_floor = kMargin * 256.0 * heads * largest_bias / kBiasLimit;
    if (!(static_cast<double>(layer->message.scale) >= message_floor)) {
      note("message scale raised from " + std::to_string(layer->message.scale) +
           " so that the bias stays below 2^30 steps");
      layer->message.scale = static_cast<float>(message_floor);
    }
    e = quantize_dense(&layer->dense, bits.weights, in.scale, layer->message.scale, "dense");
    if (!e.empty()) return e;
    const double s_m = layer->message.scale;
    // One scale for both vectors: their products are added as integers.
    float max_abs = 0.0f;
    for (float a : layer->att_src) max_abs = std::max(max_abs, std::fabs(a));
    for (float a : layer->att_dst) max_abs = std::max(max_abs, std::fabs(a));
    layer->att_scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    const auto quantize_vector = [&](const std::vector<float>& a, std::vector<int8_t>* q) {
      q->clear();
      for (float v : a)
        q->push_back(static_cast<int8_t>(std::clamp<long>(std::lround(v / layer->att_scale), -127, 127)));
    };
    quantize_vector(layer->att_src, &layer->att_src_q);
    quantize_vector(layer->att_dst, &layer->att_dst_q);
    const double term_scale = s_m * layer->att_scale;
    const double logit_ceiling = 0.2 * term_scale / kDenseRequantFloor;
    if (!(static_cast<double>(layer->logit.scale) <= logit_ceiling)) {
      note("attention logit scale lowered from " + std::to_string(layer->logit.scale) +
           " (requant factor below 2^-32): its range is clipped");
      layer->logit.scale = static_cast<float>(logit_ceiling);
    }
    const double s_e = layer->logit.scale;
    layer->logit_requant = Requant{};
    layer->logit_negative_requant = Requant{};
    e = dense_rule_requant(term_scale / s_e, "logit", &layer->logit_requant);
    if (e.empty())
      e = dense_rule_requant(0.2 * term_scale / s_e, "negative logit", &layer->logit_negative_requant);
    if (!e.empty()) return e;
    layer->exp_table = gat_exp_table(s_e);
    const int32_t out_cols = layer->concat ? layer->heads * layer->head_dim : layer->head_dim;
    layer->output_requant = Requant{};
    for (int32_t c = 0; c < out_cols && e.empty(); ++c)
      e = dense_rule_requant(s_m / (256.0 * heads * layer->output.scale), "output", &layer->output_requant);
    layer->output_bias_q.clear();
    for (float b : layer->output_bias) {
      const double q = std::round(static_cast<double>(b) * 256.0 * heads / s_m);
      layer->output_bias_q.push_back(static_cast<int32_t>(std::clamp(q, -kBiasLimit, kBiasLimit)));
    }
    layer->att_src.clear();
    layer->att_dst.clear();
    layer->output_bias.clear();
    return e;
  }

  // The mean of H > 1 GAT heads sums H int32 accumulators, which the kernels' bound covers for in-degrees
  // with H (deg + 1) <= 2^22 only: the model's degree limit is lowered to that (docs/quantization.md).
  void bound_mean_heads(ModelDesc* out) {
    for (const LayerDesc& layer : out->layers) {
      if (!layer_traits(layer.kind).attention || layer.concat || layer.heads < 2) continue;
      const uint32_t bound = gat_mean_max_degree(layer.heads);
      if (out->limits.max_degree == 0 || out->limits.max_degree > bound) {
        label_ = "layer " + layer.name;
        note("Limits.max_degree set to " + std::to_string(bound) + " (the mean of " +
             std::to_string(layer.heads) + " attention heads)");
        out->limits.max_degree = bound;
      }
    }
  }

  const ModelDesc& float_model_;
  const CalibrationRanges& ranges_;
  const QuantizerConfig& config_;
  QuantizationReport* report_;
  std::string label_;
};

}  // namespace

std::vector<uint16_t> gat_exp_table(double logit_scale) {
  std::vector<uint16_t> table(256);
  for (size_t k = 0; k < table.size(); ++k)
    table[k] = static_cast<uint16_t>(std::round(32768.0 * std::exp(-logit_scale * static_cast<double>(k))));
  return table;
}

Result<QuantParams> activation_quant_params(const ActivationRange& range, int bits) {
  using R = Result<QuantParams>;
  if (!valid_bits(bits)) return R::failure("bits must be 4 or 8, got " + std::to_string(bits));
  double lo = 0.0;
  double hi = 0.0;
  if (!range.empty()) {
    if (!std::isfinite(range.min) || !std::isfinite(range.max))
      return R::failure("activation range is not finite");
    lo = std::min<double>(range.min, 0.0);  // real 0 must be exactly representable
    hi = std::max<double>(range.max, 0.0);
  }
  const int32_t qlo = bits_min(bits);
  const int32_t qhi = bits_max(bits);
  // A collapsed range (a dead channel, or nothing but zeros: [0, 0]) must not give a scale so small that the
  // requant factors of the Dense ops writing this activation exceed 2^30: activation scales are at least
  // 2^-24. A degenerate range is not replaced by an invented one (it used to become [0, 1], which hid it):
  // check_activations (activation_check.h) reports it instead.
  const float scale =
      static_cast<float>(std::max((hi - lo) / static_cast<double>(qhi - qlo), kMinActivationScale));
  if (!std::isfinite(scale) || scale <= 0.0f) return R::failure("activation range gives no usable scale");
  const double zero_point = std::round(static_cast<double>(qlo) - lo / static_cast<double>(scale));
  R r;
  r.value.bits = bits;
  r.value.scale = scale;
  r.value.zero_point = static_cast<int32_t>(std::clamp<double>(zero_point, qlo, qhi));
  return r;
}

Result<ModelDesc> quantize_model(const ModelDesc& float_model, const CalibrationRanges& ranges,
                                 const QuantizerConfig& config, QuantizationReport* report) {
  using R = Result<ModelDesc>;
  if (float_model.quantized) return R::failure("the model is already quantized");
  if (has_batch_norm(float_model))
    return R::failure("the model has an unfolded BatchNorm: fold_batch_norm it first");
  const Result<bool> checked = check_model(float_model);
  if (!checked.ok()) return R::failure("inconsistent float model: " + checked.error);
  if (ranges.layers.size() != float_model.layers.size()) {
    return R::failure("calibration ranges cover " + std::to_string(ranges.layers.size()) +
                      " layers, the model has " + std::to_string(float_model.layers.size()));
  }
  R r;
  const std::string error = Quantizer(float_model, ranges, config, report).run(&r.value);
  if (!error.empty()) return R::failure(error);
  return r;
}

Result<ModelDesc> quantize_model(const ModelDesc& float_model, const std::vector<GraphBatch>& calibration,
                                 const QuantizerConfig& config, QuantizationReport* report) {
  const Result<CalibrationRanges> ranges = calibrate(float_model, calibration, config);
  if (!ranges.ok()) return Result<ModelDesc>::failure(ranges.error);
  return quantize_model(float_model, ranges.value, config, report);
}

}  // namespace converter
}  // namespace qgnn
