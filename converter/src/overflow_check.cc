// Per-layer accumulator bounds of a quantized model (overflow_check.h). Bounds are computed in long double,
// which holds every integer below 2^64 exactly, so comparisons against 2^31 and 2^62 are exact.
#include "qgnn/converter/overflow_check.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace converter {
namespace {

using Real = long double;
constexpr Real kInt32Limit = 2147483647.0L;                  // |acc| <= 2^31 - 1
constexpr Real kInt64ProductLimit = 4611686018427387904.0L;  // 2^62: |acc * m| of a rescale
constexpr uint64_t kLargestLimit = 0xFFFFFFFFull;

// Largest |q - zero_point| a quantized activation can take.
Real max_delta(const QuantParams& q) {
  const int32_t lo = kernels::qmin(q.bits);
  const int32_t hi = kernels::qmax(q.bits);
  return static_cast<Real>(std::max(hi - q.zero_point, q.zero_point - lo));
}

// Smallest b with 2^b >= count (kernels::mean_rescale's e).
int ceil_log2(uint64_t count) {
  int b = 0;
  while ((uint64_t{1} << b) < count) ++b;
  return b;
}

class Prover {
 public:
  Prover(const ModelDesc& model, const LimitsDesc& effective) : model_(model), limits_(effective) {}

  std::vector<AccumulatorBound> run() {
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      const QuantParams& in = input_quant_of(model_, i);
      layer_ = i;
      const LayerDesc& l = model_.layers[i];
      name_ = l.name.empty() ? "layer " + std::to_string(i) : l.name;
      const LayerKindTraits& kind = layer_traits(l.kind);
      const std::vector<DenseOp> ops = kind.dense_ops(l);
      // Transform-first: the Dense writes the messages (its bias is added after their aggregation), which
      // the reduction then reads.
      const bool transform_first = !ops.empty() && ops.front().writes_message;
      if (kind.attention) {
        attention(l, in);
        continue;
      }
      if (transform_first && l.kind == LayerKind::kSageConv) {
        sage_transform_first(l, in);
        continue;
      }
      if (!transform_first) reduction(kind.reduction, l, in, 0);
      for (const DenseOp& op : ops) {
        const QuantParams& x = op.input == DenseInput::kLayerInput    ? in
                               : op.input == DenseInput::kAggregation ? l.aggregation
                                                                      : l.hidden[op.input_hidden];
        // Name the accumulator as a Dense's ("dense mlp[0]") where the op's own name does not.
        const bool named_dense = op.what.size() >= 5 && op.what.compare(op.what.size() - 5, 5, "dense") == 0;
        dense(dense_of(l, op), x, named_dense ? op.what : "dense " + op.what, !op.writes_message);
      }
      if (transform_first) reduction(kind.reduction, l, l.aggregation, max_abs(l.dense.bias_q));
    }
    return std::move(bounds_);
  }

 private:
  void add(std::string accumulator, const char* type, Real limit, std::string depends_on, uint64_t value,
           const std::function<Real(uint64_t)>& worst) {
    AccumulatorBound b;
    b.layer = layer_;
    b.layer_name = name_;
    b.accumulator = std::move(accumulator);
    b.type = type;
    b.limit = static_cast<double>(limit);
    const Real w = worst(value);
    b.worst_case = static_cast<double>(w);
    // Exactness: decide with the long double, report the double.
    if (!(w < limit)) b.worst_case = std::max(b.worst_case, b.limit);
    if (!depends_on.empty()) {
      b.depends_on = std::move(depends_on);
      // Bounds are monotone in the limit: bisect for the largest value that still holds.
      uint64_t lo = 0, hi = kLargestLimit;
      if (worst(hi) < limit) {
        lo = hi;
      } else {
        while (lo < hi) {
          const uint64_t mid = lo + (hi - lo + 1) / 2;
          if (worst(mid) < limit)
            lo = mid;
          else
            hi = mid - 1;
        }
      }
      b.max_safe = lo;
    }
    bounds_.push_back(b);
  }

  // Transform-first SAGEConv (docs/quantization.md): the neighbour Dense without bias onto the messages,
  // their mean onto the aggregation, then the output step acc = b + (a - z_a) (the identity Dense; its
  // rescale is a Dense's, safe for any int32 accumulator) beside the root Dense's own accumulator.
  void sage_transform_first(const LayerDesc& l, const QuantParams& in) {
    dense(l.dense, in, "neighbor dense", false);
    reduce(Reduce::kMean, l.message, l.aggregation_requant, "aggregation", "max_degree", limits_.max_degree);
    const Real worst = max_abs(l.dense.bias_q) + max_delta(l.aggregation);
    add("output step (bias + aggregation)", "int32", kInt32Limit, "", 0, [worst](uint64_t) { return worst; });
    if (l.has_root) dense(l.root, in, "root dense", true);
  }

  // GATConv (docs/quantization.md, "GAT attention (kernels)", Bounds): the bias-free Dense onto the messages,
  // the attention terms (src + dst of a logit), and the alpha-weighted sum, whose alphas add up to at most
  // 256 + (deg + 1) (1/2 + 2^-24); the mean sums H of them before the bias.
  void attention(const LayerDesc& l, const QuantParams& in) {
    dense(l.dense, in, "dense", false);
    Real a = 0;
    for (int8_t v : l.att_src_q) a = std::max(a, std::abs(static_cast<Real>(v)));
    for (int8_t v : l.att_dst_q) a = std::max(a, std::abs(static_cast<Real>(v)));
    const Real delta = max_delta(l.message);
    const Real terms = 2 * delta * a * static_cast<Real>(l.head_dim);
    add("attention terms (src + dst)", "int32", kInt32Limit, "", 0, [terms](uint64_t) { return terms; });
    const Real heads = l.concat ? 1 : static_cast<Real>(l.heads);
    const Real bias = max_abs(l.output_bias_q);
    add("attention-weighted sum + bias", "int32", kInt32Limit, "max_degree", limits_.max_degree,
        [=](uint64_t degree) {
          return heads * delta * (256 + (static_cast<Real>(degree) + 1) * (0.5L + 1.0L / 16777216.0L)) + bias;
        });
  }

  static Real max_abs(const std::vector<int32_t>& values) {
    Real m = 0;
    for (int32_t v : values) m = std::max(m, std::abs(static_cast<Real>(v)));
    return m;
  }

  // The accumulators of the layer's reduction, before its Dense ops (after them, reading the messages and
  // adding the Dense's bias up to `bias` in magnitude, when transform-first).
  void reduction(Reduction r, const LayerDesc& l, const QuantParams& in, Real bias) {
    switch (r) {
      case Reduction::kNone:
        break;
      case Reduction::kGcnNormalized:
        gcn(in, l.aggregation_requant, bias);
        break;
      case Reduction::kNeighbors:
        reduce(l.reduce, in, l.aggregation_requant, "aggregation", "max_degree", limits_.max_degree);
        break;
      case Reduction::kNeighborsAndSelf:
        sum_reduce(in, l.self_weight_q16, "aggregation", "max_degree", limits_.max_degree);
        break;
      case Reduction::kGraphNodes:
        reduce(l.reduce, in, l.pool_requant, "pooling", "max_nodes", limits_.max_nodes);
        break;
      case Reduction::kAttention:  // attention() bounds the whole layer
        break;
    }
  }

  // SUM / MEAN / MAX over up to `value` rows; MEAN adds its rescale.
  void reduce(Reduce mode, const QuantParams& in, const Requant& requant, const std::string& what,
              const char* limit, uint32_t value) {
    if (mode == Reduce::kMax) {
      max_reduce(in, "max " + what);
      return;
    }
    sum_reduce(in, 0, what, limit, value);
    if (mode == Reduce::kMean) mean_rescale(requant, in, what, limit, value);
  }

  void dense(const DenseDesc& d, const QuantParams& in, const std::string& what, bool with_bias) {
    // acc[c] = bias[c] + sum_k (x - zx) w[c][k]: the worst channel, from the actual weights.
    Real worst = 0;
    const Real delta = max_delta(in);
    for (int32_t c = 0; c < d.out_features; ++c) {
      Real sum_abs = 0;
      for (int32_t k = 0; k < d.in_features; ++k)
        sum_abs += std::abs(static_cast<int>(d.weight_q[static_cast<size_t>(c) * d.in_features + k]));
      const Real bias =
          !with_bias || d.bias_q.empty() ? 0 : std::abs(static_cast<Real>(d.bias_q[static_cast<size_t>(c)]));
      worst = std::max(worst, sum_abs * delta + bias);
    }
    add(what, "int32", kInt32Limit, "", 0, [worst](uint64_t) { return worst; });
  }

  // Sum over up to `count` terms of |x - zx| (aggregation over in-neighbours, pooling over a graph's nodes),
  // plus GIN's self term rounding_shift_right(delta * w, 16).
  void sum_reduce(const QuantParams& in, int32_t self_weight_q16, const std::string& what, const char* limit,
                  uint32_t value) {
    const Real delta = max_delta(in);
    const Real self = self_weight_q16 == 0 ? 0 : std::floor((delta * self_weight_q16 + 32768) / 65536);
    add("sum " + what, "int32", kInt32Limit, limit, value,
        [delta, self](uint64_t n) { return delta * static_cast<Real>(n) + self; });
  }

  void max_reduce(const QuantParams& in, const std::string& what) {
    const Real delta = max_delta(in);
    add(what, "int32", kInt32Limit, "", 0, [delta](uint64_t) { return delta; });
  }

  // MEAN folds 1/count into the rescale: m_d = round(m 2^b / count) with shift e + b (b = ceil(log2 count)).
  // The shift must stay <= 62 and |acc * m_d| <= delta * (m 2^b + count / 2) below 2^62.
  void mean_rescale(const Requant& r, const QuantParams& in, const std::string& what, const char* limit,
                    uint32_t value) {
    if (r.multiplier.empty() || r.shift.empty()) return;
    const Real m = r.multiplier[0];
    const int e = r.shift[0];
    const Real delta = max_delta(in);
    add("mean rescale of the " + what, "int64", kInt64ProductLimit, limit, value, [=](uint64_t n) {
      const int b = ceil_log2(std::max<uint64_t>(n, 1));
      if (e + b > 62) return kInt64ProductLimit;  // the shift itself is out of range: as bad as an overflow
      return delta * (m * std::ldexp(Real{1}, b) + static_cast<Real>(n) / 2);
    });
  }

  // acc64 = delta_i n_i + sum_j delta_j n_j (Q15), then acc64 * n_i, then t = that >> 30 (plus a
  // transform-first layer's bias, in int32) rescaled by m.
  void gcn(const QuantParams& in, const Requant& r, Real bias) {
    const Real delta = max_delta(in);
    add("GCN acc64 * n_i", "int64", kInt64ProductLimit, "max_degree", limits_.max_degree,
        [delta](uint64_t deg) { return delta * 32768.0L * static_cast<Real>(deg + 1) * 32768.0L; });
    // t <= delta * n_i * (n_i + deg * 2^15) / 2^30 + 1, where n_i = gcn_norm_q15(deg + 1) is node i's own
    // factor (its n_i inside the sum is bounded by 2^15, like every neighbour's n_j).
    const auto t_bound = [delta](uint64_t deg) {
      const uint64_t d = std::min<uint64_t>(deg + 1, kLargestLimit);
      const Real n_i = kernels::gcn_norm_q15(static_cast<uint32_t>(d));
      return delta * n_i * (32768.0L + static_cast<Real>(deg) * 32768.0L) / 1073741824.0L + 1;
    };
    if (bias > 0) {
      add("GCN t + bias", "int32", kInt32Limit, "max_degree", limits_.max_degree,
          [t_bound, bias](uint64_t deg) { return t_bound(deg) + bias; });
    }
    if (r.multiplier.empty()) return;
    const Real m = r.multiplier[0];
    add("GCN rescale", "int64", kInt64ProductLimit, "max_degree", limits_.max_degree,
        [t_bound, bias, m](uint64_t deg) { return (t_bound(deg) + bias) * m; });
  }

  const ModelDesc& model_;
  LimitsDesc limits_;
  std::vector<AccumulatorBound> bounds_;
  size_t layer_ = 0;
  std::string name_;
};

std::string cap_error(const char* flag, uint32_t value, uint32_t cap) {
  return std::string("declared ") + flag + " " + std::to_string(value) + " is above the runtime's cap " +
         std::to_string(cap);
}

}  // namespace

Result<OverflowProof> prove_no_overflow(const ModelDesc& quantized, const LimitsDesc& declared) {
  using R = Result<OverflowProof>;
  if (!quantized.quantized) return R::failure("the model is not quantized: nothing to prove");
  // The proof follows each layer's declared input: its indices must be valid.
  const Result<bool> checked = check_model(quantized);
  if (!checked.ok()) return R::failure("inconsistent quantized model: " + checked.error);
  LimitsDesc effective = declared;
  auto fill = [](uint32_t* v, uint32_t cap) {
    if (*v == 0) *v = cap;
  };
  fill(&effective.max_nodes, QGNN_MAX_NODES);
  fill(&effective.max_edges, QGNN_MAX_EDGES);
  fill(&effective.max_degree, QGNN_MAX_DEGREE);
  fill(&effective.max_graphs, QGNN_MAX_GRAPHS);

  R r;
  r.value.effective = effective;
  r.value.bounds = Prover(quantized, effective).run();
  for (const AccumulatorBound& b : r.value.bounds) {
    if (b.holds()) continue;
    std::string message = "layer " + std::to_string(b.layer) + " (" + b.layer_name + "): the " + b.type +
                          " " + b.accumulator + " can overflow";
    if (!b.depends_on.empty()) {
      const uint32_t value = b.depends_on == "max_degree" ? effective.max_degree : effective.max_nodes;
      message += " for " + b.depends_on + " " + std::to_string(value) + "; the largest safe " + b.depends_on +
                 " is " + std::to_string(b.max_safe);
    }
    return R::failure(message);
  }
  // Within the proof, but the runtime enforces its own caps too: refuse limits it would never honour.
  if (effective.max_nodes > QGNN_MAX_NODES)
    return R::failure(cap_error("max_nodes", effective.max_nodes, QGNN_MAX_NODES));
  if (effective.max_edges > QGNN_MAX_EDGES)
    return R::failure(cap_error("max_edges", effective.max_edges, QGNN_MAX_EDGES));
  if (effective.max_degree > QGNN_MAX_DEGREE)
    return R::failure(cap_error("max_degree", effective.max_degree, QGNN_MAX_DEGREE));
  if (effective.max_graphs > QGNN_MAX_GRAPHS)
    return R::failure(cap_error("max_graphs", effective.max_graphs, QGNN_MAX_GRAPHS));
  return r;
}

}  // namespace converter
}  // namespace qgnn
