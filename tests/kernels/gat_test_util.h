// Random and adversarial GAT cases shared by the reference test (gat_test.cc, against an int128 oracle) and
// the twin test (gat_simd_test.cc, byte for byte against the reference): a graph, int8 / int4 messages,
// attention vectors, their terms, an exp table and the rescales, owning all storage.
#ifndef QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
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

/// How the logits are pushed (LogitMode::kSaturated: factors so large that most clamp at qmin or qmax).
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
  int logit_bits = 8;  ///< 8 or 4: the logits' clamp range (GatParams::logit_bits)
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
    // over int8 (2^4 less over 4 bits); kSaturated multiplies it by ~2^8.
    const int32_t spread =
        (s.logit_bits == 4 ? 14 : 10) + static_cast<int32_t>(std::log2(static_cast<double>(s.head_dim)) / 2);
    const int32_t base_shift = 31 + (s.logits == LogitMode::kSaturated ? spread - 8 : spread);
    auto multiplier = [&] { return static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1)); };
    params.logit_pos = Rescale{multiplier(), base_shift + static_cast<int32_t>(rng.uniform_int(-1, 1))};
    // LeakyReLU's 0.2 is ~2^-2.3: shift 2 or 3 more.
    params.logit_neg = Rescale{multiplier(), params.logit_pos.shift + static_cast<int32_t>(rng.uniform_int(2, 3))};
    params.logit_zero_point = static_cast<int32_t>(
        rng.uniform_int(testutil::qmin_of(s.logit_bits), testutil::qmax_of(s.logit_bits)));
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
    params.logit_bits = shape.logit_bits;
  }

  QActivationConst input() const { return messages.cview(); }
  QMatrix make_output(uint8_t poison) const {
    QMatrix out(graph.num_nodes(), out_cols(), shape.out_bits, out_zero_point);
    out.poison(poison);
    return out;
  }
};

/// H x F pairs, each in concat and mean: the oracle test's (odd widths, H = 1 and 8, F = 1); `twin_widths`
/// adds the ones that straddle the SIMD widths (16, 32, 33, 100, 129 columns per head or in all).
inline std::vector<Shape> shapes(bool twin_widths) {
  std::vector<std::pair<int32_t, int32_t>> hf = {{1, 7}, {8, 8}, {3, 5}, {2, 17}, {8, 1}, {1, 33}};
  if (twin_widths) hf.insert(hf.end(), {{4, 16}, {2, 32}, {1, 129}, {16, 3}, {8, 100}});
  std::vector<Shape> all;
  for (const auto& p : hf) {
    for (bool concat : {true, false}) {
      Shape s;
      s.heads = p.first;
      s.head_dim = p.second;
      s.concat = concat;
      all.push_back(s);
    }
  }
  return all;
}

/// "H8 F8 concat bits 8/4 logits 8", after a graph's name.
inline std::string label(const std::string& graph, const Shape& s) {
  return graph + " H" + std::to_string(s.heads) + " F" + std::to_string(s.head_dim) +
         (s.concat ? " concat" : " mean") + " bits " + std::to_string(s.in_bits) + "/" +
         std::to_string(s.out_bits) + " logits " + std::to_string(s.logit_bits);
}

/// Every adversarial graph (kernel_test_util.h) x shapes(twin_widths) x int8 / int4 messages and outputs x
/// int8 / 4-bit logits, bias and ReLU alternating with the seed: check(case, seed, label) for each, seeds
/// first_seed + 1, + 2, ... (8-bit logits first, so their cases keep the seeds they had before 4-bit ones).
template <class Check>
void for_each_adversarial_case(uint64_t first_seed, bool twin_widths, Check check) {
  uint64_t seed = first_seed;
  for (int logit_bits : {8, 4}) {
    for (const auto& g : testutil::adversarial_graphs()) {
      for (Shape s : shapes(twin_widths)) {
        for (auto bits : std::vector<std::pair<int, int>>{{8, 8}, {8, 4}, {4, 8}, {4, 4}}) {
          s.in_bits = bits.first;
          s.out_bits = bits.second;
          s.logit_bits = logit_bits;
          s.bias = (seed % 2) == 0;
          s.relu = (seed % 3) == 0;
          GatCase c;
          c.build(s, g.graph, ++seed);
          check(c, seed, label(g.name, s));
        }
      }
    }
  }
}

/// Six cases on small random graphs whose exp tables no converter writes: all zero (trials 0, 1), random
/// uint16 from `table_seed` (3 to 5) and random with T[0] = 0 (2), so S = 0 and S < 2^15 are reached.
/// check(case, trial, label).
template <class Check>
void for_each_malformed_table_case(uint64_t table_seed, Check check) {
  Rng rng(table_seed);
  for (int trial = 0; trial < 6; ++trial) {
    Shape s;
    s.concat = (trial % 2) == 0;
    GatCase c;
    c.build(s, testutil::RandomGraph().nodes(30).avg_degree(3).isolated_fraction(0.2).seed(trial).build(),
            trial);
    for (auto& t : c.table) t = static_cast<uint16_t>(trial < 2 ? 0 : rng.uniform_int(0, 65535));
    if (trial == 2) c.table[0] = 0;
    c.refresh();
    check(c, static_cast<uint64_t>(trial), "malformed table " + std::to_string(trial));
  }
}

/// In-degree 10^5 into node 0 plus 10^5 isolated leaves, 8 heads x 8, with a bias (8 (10^5 + 1) <= 2^22: the
/// mean stays inside its documented bound).
inline GatCase hub_case(bool concat, bool relu, uint64_t seed) {
  Shape s;
  s.concat = concat;
  s.bias = true;
  s.relu = relu;
  GatCase c;
  c.build(s, testutil::star_into_center(100000), seed);
  return c;
}

}  // namespace gattest
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_GAT_TEST_UTIL_H_
