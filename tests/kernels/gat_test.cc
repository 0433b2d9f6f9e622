// gat_attention_terms() and gat_aggregate() against an int128 oracle written from docs/quantization.md
// ("GAT attention (kernels)"): the worked example, random and adversarial graphs (empty, isolated nodes, a
// hub of in-degree 10^5), all-equal and saturated (int8 and 4-bit) logits, malformed exp tables, awkward H x
// F, concat and mean, bias and ReLU, int8 / int4 messages and outputs, and arbitrary row splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gat_test_util.h"
#include "kernel_test_util.h"
#include "oracle.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using gattest::GatCase;
using gattest::LogitMode;
using gattest::Shape;
using testutil::Csr;
using testutil::QMatrix;
using testutil::Rng;

// ---- The oracle: every row's logits and alphas materialised, then the sums, all in int128 -------------

/// The documented output row of node i (out_cols values, saturated).
std::vector<int32_t> oracle_row(const GatCase& c, int32_t i) {
  const Shape& s = c.shape;
  const GatParams& p = c.params;
  std::vector<int32_t> sources{i};
  for (int32_t e = c.graph.row_ptr[i]; e < c.graph.row_ptr[i + 1]; ++e) sources.push_back(c.graph.col_idx[e]);
  // alpha[h][k] for the k-th source.
  std::vector<std::vector<oracle::int128>> alpha(static_cast<size_t>(s.heads));
  for (int32_t h = 0; h < s.heads; ++h) {
    std::vector<int64_t> logits;
    for (int32_t j : sources) {
      const int64_t acc = int64_t{c.src_terms[static_cast<size_t>(j * s.heads + h)]} +
                          c.dst_terms[static_cast<size_t>(i * s.heads + h)];
      const Rescale r = acc >= 0 ? p.logit_pos : p.logit_neg;
      logits.push_back(
          oracle::saturate(p.logit_zero_point + oracle::rescale(acc, r.multiplier, r.shift), p.logit_bits));
    }
    const int64_t emax = *std::max_element(logits.begin(), logits.end());
    oracle::int128 sum = 0;
    for (int64_t e : logits) sum += c.table[static_cast<size_t>(emax - e)];
    oracle::int128 inv = 0;
    if (sum > 0) inv = std::min<oracle::int128>(oracle::floor_div((oracle::int128{1} << 47) + sum / 2, sum),
                                                (oracle::int128{1} << 32) - 1);
    for (int64_t e : logits) {
      const oracle::int128 t = c.table[static_cast<size_t>(emax - e)];
      alpha[static_cast<size_t>(h)].push_back(
          std::min<oracle::int128>(255, oracle::floor_div(t * inv + (oracle::int128{1} << 38), oracle::int128{1} << 39)));
    }
  }
  const int32_t oc = c.out_cols();
  std::vector<oracle::int128> acc(static_cast<size_t>(oc), 0);
  for (int32_t h = 0; h < s.heads; ++h) {
    for (size_t k = 0; k < sources.size(); ++k) {
      for (int32_t f = 0; f < s.head_dim; ++f) {
        const int32_t col = s.concat ? h * s.head_dim + f : f;
        const int64_t delta = c.messages.get(sources[k], h * s.head_dim + f) - c.messages.zero_point();
        acc[static_cast<size_t>(col)] += alpha[static_cast<size_t>(h)][k] * delta;
      }
    }
  }
  std::vector<int32_t> row;
  const int32_t lo_bound = s.relu ? std::max(c.out_zero_point, testutil::qmin_of(s.out_bits)) : testutil::qmin_of(s.out_bits);
  for (int32_t col = 0; col < oc; ++col) {
    // The documented int32 bound must hold for the accumulator the kernel keeps.
    EXPECT_LT(acc[static_cast<size_t>(col)] < 0 ? -acc[static_cast<size_t>(col)] : acc[static_cast<size_t>(col)],
              oracle::int128{1} << 30);
    const int64_t biased = static_cast<int64_t>(acc[static_cast<size_t>(col)]) +
                           (s.bias ? c.bias[static_cast<size_t>(col)] : 0);
    const int32_t v = oracle::saturate(
        c.out_zero_point + oracle::rescale(biased, c.out_multiplier[static_cast<size_t>(col)],
                                           c.out_shift[static_cast<size_t>(col)]),
        s.out_bits);
    row.push_back(std::max(v, lo_bound));
  }
  return row;
}

/// Runs the reference over all rows and over a random split, and compares both with the oracle.
void check_case(const GatCase& c, uint64_t seed, const std::string& label) {
  SCOPED_TRACE(label);
  const int32_t n = c.graph.num_nodes();
  QMatrix whole = c.make_output(0x5A);
  gat_aggregate(c.graph.view(), c.params, c.input(), whole.view(), 0, n);
  QMatrix split = c.make_output(0xA5);
  Rng rng(seed);
  for (const auto& chunk : testutil::random_split(0, n, rng)) {
    gat_aggregate(c.graph.view(), c.params, c.input(), split.view(), chunk.first, chunk.second);
  }
  ASSERT_EQ(whole.row_range_bytes(0, n), split.row_range_bytes(0, n)) << "the result depends on the row split";
  ASSERT_TRUE(whole.pad_nibbles_are_zero());
  for (int32_t i = 0; i < n; ++i) {
    const std::vector<int32_t> expected = oracle_row(c, i);
    for (int32_t col = 0; col < c.out_cols(); ++col) {
      ASSERT_EQ(whole.get(i, col), expected[static_cast<size_t>(col)]) << "node " << i << " col " << col;
    }
  }
}

TEST(GatAttentionTerms, MatchesOracleForEveryWidth) {
  Rng rng(1);
  for (int bits : {8, 4}) {
    for (auto hf : std::vector<std::pair<int32_t, int32_t>>{{1, 1}, {1, 7}, {8, 8}, {3, 5}, {2, 17}, {8, 1}, {4, 33}}) {
      const int32_t heads = hf.first, dim = hf.second, n = 13, cols = heads * dim;
      QMatrix m(n, cols, bits, static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(bits), testutil::qmax_of(bits))));
      m.fill_random(rng);
      std::vector<int8_t> as(static_cast<size_t>(cols)), ad(static_cast<size_t>(cols));
      for (auto& w : as) w = static_cast<int8_t>(rng.uniform_int(-128, 127));
      for (auto& w : ad) w = static_cast<int8_t>(rng.uniform_int(-128, 127));
      std::vector<int32_t> src(static_cast<size_t>(n * heads), -7), dst(static_cast<size_t>(n * heads), -7);
      // Two chunks in reverse order: a row range writes its rows only.
      gat_attention_terms(m.cview(), heads, dim, as.data(), ad.data(), src.data(), dst.data(), 5, n);
      gat_attention_terms(m.cview(), heads, dim, as.data(), ad.data(), src.data(), dst.data(), 0, 5);
      for (int32_t j = 0; j < n; ++j) {
        for (int32_t h = 0; h < heads; ++h) {
          int64_t es = 0, ed = 0;
          for (int32_t f = 0; f < dim; ++f) {
            const int64_t delta = m.get(j, h * dim + f) - m.zero_point();
            es += as[static_cast<size_t>(h * dim + f)] * delta;
            ed += ad[static_cast<size_t>(h * dim + f)] * delta;
          }
          ASSERT_EQ(src[static_cast<size_t>(j * heads + h)], es) << bits << " bits, H " << heads << " F " << dim;
          ASSERT_EQ(dst[static_cast<size_t>(j * heads + h)], ed) << bits << " bits, H " << heads << " F " << dim;
        }
      }
    }
  }
}

TEST(GatAttentionTerms, ExtremeValuesDoNotOverflow) {
  // F = 2^15 of (m - zm) = 255 times a = -128: -1,069,547,520, the documented extreme (< 2^30).
  const int32_t dim = 32768;
  QMatrix m(1, dim, 8, -128);
  m.fill(127);
  std::vector<int8_t> a(static_cast<size_t>(dim), -128);
  int32_t src = 0, dst = 0;
  gat_attention_terms(m.cview(), 1, dim, a.data(), a.data(), &src, &dst, 0, 1);
  EXPECT_EQ(src, -int64_t{255} * 128 * dim);
  EXPECT_EQ(dst, src);
}

TEST(GatAggregate, WorkedExampleOfQuantizationMd) {
  GatCase c;
  c.shape = Shape{1, 2, true, false, false, 8, 8, LogitMode::kRealistic, 8};
  c.graph = Csr::from_in_neighbours({{1}, {}});
  c.messages = QMatrix(2, 2, 8, 0);
  c.messages.set(0, 0, 10);
  c.messages.set(0, 1, -4);
  c.messages.set(1, 0, 20);
  c.messages.set(1, 1, 6);
  c.att_src = {3, 1};
  c.att_dst = {-2, 5};
  c.src_terms.assign(2, 0);
  c.dst_terms.assign(2, 0);
  gat_attention_terms(c.messages.cview(), 1, 2, c.att_src.data(), c.att_dst.data(), c.src_terms.data(),
                      c.dst_terms.data(), 0, 2);
  EXPECT_EQ(c.src_terms, (std::vector<int32_t>{26, 66}));
  EXPECT_EQ(c.dst_terms, (std::vector<int32_t>{-40, -10}));
  c.params.logit_pos = Rescale{1 << 30, 32};
  c.params.logit_neg = Rescale{1717986918, 35};
  c.params.logit_zero_point = -10;
  c.table = gattest::exp_table(0.1);
  EXPECT_EQ(std::vector<uint16_t>(c.table.begin(), c.table.begin() + 9),
            (std::vector<uint16_t>{32768, 29650, 26828, 24275, 21965, 19875, 17983, 16272, 14724}));
  c.out_multiplier = {1 << 30, 1 << 30};
  c.out_shift = {38, 38};
  c.out_zero_point = 0;
  c.refresh();
  QMatrix out = c.make_output(0);
  gat_aggregate(c.graph.view(), c.params, c.input(), out.view(), 0, 2);
  EXPECT_EQ(out.get(0, 0), 17);
  EXPECT_EQ(out.get(0, 1), 3);
  EXPECT_EQ(out.get(1, 0), 20);
  EXPECT_EQ(out.get(1, 1), 6);
  check_case(c, 1, "worked example");
}

TEST(GatAggregate, AdversarialGraphsEveryShapeAndWidth) {
  gattest::for_each_adversarial_case(100, /*twin_widths=*/false, check_case);
}

TEST(GatAggregate, IsolatedNodesSeeOnlyTheirSelfLoop) {
  // No edges at all: alpha = 255 for every node, so out = zo + rescale(255 (m - zm) + b).
  for (Shape s : gattest::shapes(/*twin_widths=*/false)) {
    GatCase c;
    s.bias = true;
    c.build(s, Csr::from_in_neighbours(std::vector<std::vector<int32_t>>(9)), 7);
    check_case(c, 7, "isolated");
    QMatrix out = c.make_output(0);
    gat_aggregate(c.graph.view(), c.params, c.input(), out.view(), 0, 9);
    for (int32_t i = 0; i < 9; ++i) {
      for (int32_t col = 0; col < c.out_cols(); ++col) {
        int64_t acc = 0;
        for (int32_t h = 0; h < (s.concat ? 1 : s.heads); ++h) {
          const int32_t src_col = s.concat ? col : h * s.head_dim + col;
          acc += 255 * int64_t{c.messages.get(i, src_col) - c.messages.zero_point()};
        }
        acc += c.bias[static_cast<size_t>(col)];
        ASSERT_EQ(out.get(i, col),
                  oracle::saturate(c.out_zero_point + oracle::rescale(acc, c.out_multiplier[static_cast<size_t>(col)],
                                                                      c.out_shift[static_cast<size_t>(col)]),
                                   8));
      }
    }
  }
}

TEST(GatAggregate, AllEqualLogitsAverage) {
  // a = 0: every logit is z_e, t = 2^15 each, alpha = round(256 / (deg + 1)) (capped at 255).
  Shape s;
  s.logits = LogitMode::kAllEqual;
  for (bool concat : {true, false}) {
    s.concat = concat;
    GatCase c;
    c.build(s, testutil::RandomGraph().nodes(60).avg_degree(6).seed(3).build(), 11);
    check_case(c, 11, concat ? "equal concat" : "equal mean");
  }
  // Directly: degree 3 (4 terms): inv = 2^47 / 2^17 = 2^30, alpha = (2^45 + 2^38) >> 39 = 64.
  GatCase c;
  s.heads = 1;
  s.head_dim = 1;
  s.concat = true;
  c.build(s, Csr::from_in_neighbours({{1, 2, 3}, {}, {}, {}}), 5);
  for (int32_t i = 0; i < 4; ++i) c.messages.set(i, 0, c.messages.zero_point() + 1);
  c.out_multiplier[0] = 1 << 30;
  c.out_shift[0] = 31;  // factor 1/2
  c.out_zero_point = 0;
  c.refresh();
  QMatrix out = c.make_output(0);
  gat_aggregate(c.graph.view(), c.params, c.input(), out.view(), 0, 1);
  EXPECT_EQ(out.get(0, 0), 127);  // 4 * 64 * 1 / 2 = 128 saturates at 127
}

TEST(GatAggregate, SaturatedLogitsAtBothEnds) {
  Shape s;
  s.logits = LogitMode::kSaturated;
  uint64_t seed = 40;
  for (int logit_bits : {8, 4}) {
    const int64_t lo = testutil::qmin_of(logit_bits), hi = testutil::qmax_of(logit_bits);
    for (auto hf : std::vector<std::pair<int32_t, int32_t>>{{8, 8}, {1, 7}, {3, 5}}) {
      for (bool concat : {true, false}) {
        s.heads = hf.first;
        s.head_dim = hf.second;
        s.concat = concat;
        s.logit_bits = logit_bits;
        GatCase c;
        ++seed;
        c.build(s, testutil::RandomGraph().nodes(50).avg_degree(8).seed(seed).build(), seed);
        c.params.logit_zero_point = 0;
        // The case must really hit both clamps, else it tests nothing more than the realistic ones.
        int64_t low = 0, high = 0;
        for (int32_t i = 0; i < c.graph.num_nodes(); ++i) {
          for (int32_t e = c.graph.row_ptr[i]; e < c.graph.row_ptr[i + 1]; ++e) {
            for (int32_t h = 0; h < s.heads; ++h) {
              const int64_t acc =
                  int64_t{c.src_terms[static_cast<size_t>(c.graph.col_idx[e] * s.heads + h)]} +
                  c.dst_terms[static_cast<size_t>(i * s.heads + h)];
              const Rescale r = acc >= 0 ? c.params.logit_pos : c.params.logit_neg;
              const int64_t v = oracle::rescale(acc, r.multiplier, r.shift);
              low += v <= lo;
              high += v >= hi;
            }
          }
        }
        EXPECT_GT(low, 0);
        EXPECT_GT(high, 0);
        check_case(c, seed, "saturated, logits " + std::to_string(logit_bits));
      }
    }
  }
  // One row whose logits are exactly qmin and qmax: d = qmax - qmin reads the last entry the width reaches
  // (255 for int8; 15 for 4 bits, where only the clamp keeps the kernel off entries 16..255).
  for (int logit_bits : {8, 4}) {
    GatCase c;
    s.heads = 1;
    s.head_dim = 1;
    s.concat = true;
    s.logit_bits = logit_bits;
    c.build(s, Csr::from_in_neighbours({{1}, {}}), 9);
    c.src_terms = {-1000000, 1000000};
    c.dst_terms = {0, 0};
    c.params.logit_pos = Rescale{1 << 30, 30};
    c.params.logit_neg = Rescale{1 << 30, 30};
    c.params.logit_zero_point = 0;
    const size_t last = logit_bits == 8 ? 255 : 15;
    c.table.assign(256, 0);
    c.table[0] = 32768;
    c.table[last] = 32768;  // a table no converter writes, so that entry shows in the result
    c.refresh();
    check_case(c, 9, "both ends, logits " + std::to_string(logit_bits));
    // Both sources read t = 2^15: alpha = 128 each.
    QMatrix out = c.make_output(0);
    gat_aggregate(c.graph.view(), c.params, c.input(), out.view(), 0, 1);
    const int64_t acc = 128 * int64_t{c.messages.get(0, 0) - c.messages.zero_point()} +
                        128 * int64_t{c.messages.get(1, 0) - c.messages.zero_point()};
    EXPECT_EQ(
        out.get(0, 0),
        oracle::saturate(c.out_zero_point + oracle::rescale(acc, c.out_multiplier[0], c.out_shift[0]), 8));
  }
}

TEST(GatAggregate, MalformedTablesAreTotal) {
  // A table with T[0] = 0 can give S = 0 (alpha = 0, inv = 0), or S < 2^15 (inv capped at 2^32 - 1): the
  // kernel must stay defined, and equal to the documented formulas, for every uint16 table.
  gattest::for_each_malformed_table_case(77, check_case);
}

TEST(GatAggregate, HubOfDegree100000) {
  // In-degree 10^5 (every leaf points to node 0) and 10^5 isolated leaves, 8 heads x 8: concat, and mean
  // (8 * (10^5 + 1) <= 2^22, inside the documented mean bound). Only the hub and a few leaves are checked
  // against the oracle (the oracle is slow); the split check covers every row.
  for (bool concat : {true, false}) {
    const GatCase c = gattest::hub_case(concat, /*relu=*/false, concat ? 21 : 22);
    const int32_t n = c.graph.num_nodes();
    QMatrix whole = c.make_output(0x5A);
    gat_aggregate(c.graph.view(), c.params, c.input(), whole.view(), 0, n);
    QMatrix split = c.make_output(0xA5);
    gat_aggregate(c.graph.view(), c.params, c.input(), split.view(), 1, n);
    gat_aggregate(c.graph.view(), c.params, c.input(), split.view(), 0, 1);
    ASSERT_EQ(whole.row_range_bytes(0, n), split.row_range_bytes(0, n));
    for (int32_t i : {0, 1, 2, 50000, n - 1}) {
      const std::vector<int32_t> expected = oracle_row(c, i);
      for (int32_t col = 0; col < c.out_cols(); ++col) {
        ASSERT_EQ(whole.get(i, col), expected[static_cast<size_t>(col)]) << "node " << i << " col " << col;
      }
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
