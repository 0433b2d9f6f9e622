// Random and adversarial GAT cases shared by the reference test (gat_test.cc, against an int128 oracle) and
// the twin test (gat_simd_test.cc, byte for byte against the reference): a graph, int8 / int4 messages,
// attention vectors, their terms, an exp table and the rescales, owning all storage.
#ifndef QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace gattest {

using testutil::Csr;
using testutil::QMatrix;
using testutil::Rng;

/// The converter's table (docs/quantization.md): T[k] = round(32768 exp(-s_e k)), halves away from zero.
inline std::vector<uint16_t> exp_table(double logit_scale) {
  std::vector<uint16_t> table(kGatExpTableSize);
  for (int32_t k = 0; k < kGatExpTableSize; ++k) {
    table[static_cast<size_t>(k)] = static_cast<uint16_t>(std::lround(32768.0 * std::exp(-logit_scale * k)));
  }
  return table;
}

/// How the logits are pushed (LogitMode::kSaturated: factors so large that most clamp at -128 or 127).
enum class LogitMode { kRealistic, kAllEqual, kSaturated };

struct Shape {
  int32_t heads = 8;
  int32_t head_dim = 8;
  bool concat = true;
  bool bias = false;
  bool relu = false;
  int in_bits = 8;
  int out_bits = 8;
  LogitMode logits = LogitMode::kRealistic;
};

/// One complete case: build() fills everything from the shape, the graph and a seed.
struct GatCase {
  Shape shape;
  Csr graph;
  QMatrix messages{0, 0, 8, 0};
  std::vector<int8_t> att_src, att_dst;
  std::vector<int32_t> src_terms, dst_terms;
  std::vector<uint16_t> table;
  std::vector<int32_t> bias, out_multiplier, out_shift;
  GatParams params{};
  int32_t out_zero_point = 0;

  int32_t out_cols() const { return shape.concat ? shape.heads * shape.head_dim : shape.head_dim; }

  /// Terms from the reference gat_attention_terms (itself checked against the oracle in gat_test.cc).
  void build(const Shape& s, Csr g, uint64_t seed) {
    shape = s;
    graph = std::move(g);
    Rng rng(seed);
    const int32_t n = graph.num_nodes(), cols = s.heads * s.head_dim;
    const int32_t qmin = testutil::qmin_of(s.in_bits), qmax = testutil::qmax_of(s.in_bits);
    messages = QMatrix(n, cols, s.in_bits, static_cast<int32_t>(rng.uniform_int(qmin, qmax)));
    messages.fill_random(rng, qmin, qmax);
    att_src.assign(static_cast<size_t>(cols), 0);
    att_dst.assign(static_cast<size_t>(cols), 0);
    if (s.logits != LogitMode::kAllEqual) {
      for (auto* a : {&att_src, &att_dst}) {
        for (int8_t& w : *a) w = static_cast<int8_t>(rng.uniform_int(-128, 127));
      }
    }
    src_terms.assign(static_cast<size_t>(n) * s.heads + 1, 0);
    dst_terms.assign(static_cast<size_t>(n) * s.heads + 1, 0);
    gat_attention_terms(messages.cview(), s.heads, s.head_dim,
                        att_src.data(), att_dst.data(), src_terms.data(), dst_terms.data(), 0, n);

    // |src + dst| ~ 255 * 128 * sqrt(F) for random data: a factor ~ 2^-(10 + log2 F / 2) spreads the logits
    // over int8; kSaturated multiplies it by ~2^8.
    const int32_t spread = 10 + static_cast<int32_t>(std::log2(static_cast<double>(s.head_dim)) / 2);
    const int32_t base_shift = 31 + (s.logits == LogitMode::kSaturated ? spread - 8 : spread);
    auto multiplier = [&] { return static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1)); };
    params.logit_pos = Rescale{multiplier(), base_shift + static_cast<int32_t>(rng.uniform_int(-1, 1))};
    // LeakyReLU's 0.2 is ~2^-2.3: shift 2 or 3 more.
    params.logit_neg = Rescale{multiplier(), params.logit_pos.shift + static_cast<int32_t>(rng.uniform_int(2, 3))};
    params.logit_zero_point = static_cast<int32_t>(rng.uniform_int(-128, 127));
    table = exp_table(rng.uniform_real(0.005, 0.6));

    const int32_t oc = out_cols();
    out_zero_point = static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(s.out_bits), testutil::qmax_of(s.out_bits)));
    out_multiplier.clear();
    out_shift.clear();
    bias.clear();
    // acc ~ 256 * 255 per head (times H for the mean): factors ~ 2^-8 .. 2^-14 cover int8 and int4 outputs.
    for (int32_t c = 0; c < oc; ++c) {
      out_multiplier.push_back(multiplier());
      out_shift.push_back(31 + static_cast<int32_t>(rng.uniform_int(7, 14)));
      bias.push_back(static_cast<int32_t>(rng.uniform_int(-40000, 40000)));
    }
    if (!s.bias) bias.assign(static_cast<size_t>(oc), 0);
    bias.push_back(0);
    out_multiplier.push_back(0);
    out_shift.push_back(1);
    refresh();
  }

  /// Re-points params at the owned storage (after a copy or an edit of the vectors).
  void refresh() {
    params.heads = shape.heads;
    params.head_dim = shape.head_dim;
    params.src_terms = src_terms.data();
    params.dst_terms = dst_terms.data();
    params.exp_table = table.data();
    params.concat = shape.concat;
    params.bias = shape.bias ? bias.data() : nullptr;
    params.rq = ChannelRescale{out_multiplier.data(), out_shift.data()};
    params.relu = shape.relu;
  }

  QActivationConst input() const { return messages.cview(); }
  QMatrix make_output(uint8_t poison) const {
    QMatrix out(graph.num_nodes(), out_cols(), shape.out_bits, out_zero_point);
    out.poison(poison);
    return out;
  }
};

}  // namespace gattest
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_
