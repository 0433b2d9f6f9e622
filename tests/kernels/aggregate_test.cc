// aggregate() and the GCN factors it consumes, against an int128 oracle written from the formulas, for
// every mode x input bits x output bits, on adversarial graphs, awkward widths, extreme zero points,
// GIN self weights and arbitrary row splits; the transform-first layer's bias and ReLU; and the worked
// transform-first GCNConv example of docs/quantization.md, through dense() and aggregate(kGcn).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "kernel_test_util.h"
#include "oracle.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Csr;
using testutil::QMatrix;
using testutil::Rng;

std::vector<int32_t> oracle_norms(const Csr& graph) {
  std::vector<int32_t> norms(static_cast<size_t>(graph.num_nodes()) + 1, 0);
  for (int32_t i = 0; i < graph.num_nodes(); ++i) {
    norms[static_cast<size_t>(i)] = oracle::gcn_norm_q15(static_cast<uint64_t>(graph.degree(i)) + 1);
  }
  return norms;
}

struct AggregateSetup {
  AggregateMode mode;
  Rescale rq;
  int32_t self_weight_q16;
  int32_t out_zero_point;
  int out_bits;
  const std::vector<int32_t>* bias = nullptr;  ///< AggregateParams::bias (kSum / kGcn), cols entries
  bool relu = false;
};

/// The documented value of output element (node, col).
int32_t expected_element(const Csr& graph, const QMatrix& x, const std::vector<int32_t>& norms,
                         const AggregateSetup& s, int32_t node, int32_t col) {
  const int64_t zx = x.zero_point();
  const int32_t first = graph.row_ptr[node], last = graph.row_ptr[node + 1];
  const int64_t degree = last - first;
  auto centered = [&](int32_t j) { return static_cast<int64_t>(x.get(j, col)) - zx; };
  oracle::int128 value = s.out_zero_point;
  switch (s.mode) {
    case AggregateMode::kSum: {
      int64_t acc = 0;
      for (int32_t e = first; e < last; ++e) acc += centered(graph.col_idx[e]);
      if (s.self_weight_q16 != 0) acc += oracle::self_term(centered(node), s.self_weight_q16);
      if (s.bias != nullptr) acc += (*s.bias)[static_cast<size_t>(col)];
      value += oracle::rescale(acc, s.rq.multiplier, s.rq.shift);
      break;
    }
    case AggregateMode::kMean: {
      if (degree == 0) break;
      int64_t acc = 0;
      for (int32_t e = first; e < last; ++e) acc += centered(graph.col_idx[e]);
      const oracle::MeanRescale mean = oracle::mean_rescale(s.rq.multiplier, s.rq.shift, degree);
      value += oracle::rescale(acc, mean.multiplier, mean.shift);
      break;
    }
    case AggregateMode::kMax: {
      if (degree == 0) break;
      int64_t best = INT64_MIN;
      for (int32_t e = first; e < last; ++e) best = std::max<int64_t>(best, x.get(graph.col_idx[e], col));
      value += oracle::rescale(best - zx, s.rq.multiplier, s.rq.shift);
      break;
    }
    case AggregateMode::kGcn: {
      oracle::int128 acc = oracle::int128{centered(node)} * norms[static_cast<size_t>(node)];
      for (int32_t e = first; e < last; ++e) {
        acc += oracle::int128{centered(graph.col_idx[e])} * norms[static_cast<size_t>(graph.col_idx[e])];
      }
      int64_t normalised =
          oracle::round_half_up(acc * norms[static_cast<size_t>(node)], oracle::int128{1} << 30);
      if (s.bias != nullptr) normalised += (*s.bias)[static_cast<size_t>(col)];
      value += oracle::rescale(normalised, s.rq.multiplier, s.rq.shift);
      break;
    }
  }
  const int32_t saturated = oracle::saturate(value, s.out_bits);
  // ReLU: nothing below real 0 (the zero point), which lies inside the output range.
  return s.relu && saturated < s.out_zero_point ? s.out_zero_point : saturated;
}

void run_aggregate(const Csr& graph, const QMatrix& x, const std::vector<int32_t>& norms,
                   const AggregateSetup& s, QMatrix& out, int32_t begin, int32_t end) {
  AggregateParams params{s.mode, s.rq, s.self_weight_q16, norms.data()};
  params.bias = s.bias != nullptr ? s.bias->data() : nullptr;
  params.relu = s.relu;
  aggregate(graph.view(), params, x.cview(), x.cols(), out.view(), begin, end);
}

/// Runs the kernel on the whole range and on a random split, checks both against the oracle.
void check_aggregate(const std::string& label, const Csr& graph, const QMatrix& x, const AggregateSetup& s,
                     Rng& rng) {
  const int32_t n = graph.num_nodes(), cols = x.cols();
  const std::vector<int32_t> norms = oracle_norms(graph);
  QMatrix whole(n, cols, s.out_bits, s.out_zero_point), split(n, cols, s.out_bits, s.out_zero_point);
  whole.poison(0xEE);
  split.poison(0x77);
  run_aggregate(graph, x, norms, s, whole, 0, n);
  for (const auto& chunk : testutil::random_split(0, n, rng))
    run_aggregate(graph, x, norms, s, split, chunk.first, chunk.second);

  for (int32_t i = 0; i < n; ++i) {
    for (int32_t c = 0; c < cols; ++c) {
      ASSERT_EQ(whole.get(i, c), expected_element(graph, x, norms, s, i, c))
          << label << " node=" << i << " col=" << c << " degree=" << graph.degree(i)
          << " zx=" << x.zero_point() << " zo=" << s.out_zero_point << " self_w=" << s.self_weight_q16
          << " rq=" << s.rq.multiplier << "/" << s.rq.shift << " bias=" << (s.bias != nullptr)
          << " relu=" << s.relu;
    }
  }
  ASSERT_TRUE(whole.pad_nibbles_are_zero()) << label;
  ASSERT_EQ(whole.row_range_bytes(0, n), split.row_range_bytes(0, n))
      << label << ": result depends on the split";
}

using AggregateParam = std::tuple<AggregateMode, int, int>;  // mode, input bits, output bits

class AggregateTest : public ::testing::TestWithParam<AggregateParam> {};

TEST_P(AggregateTest, MatchesOracleOnAdversarialGraphs) {
  const auto [mode, in_bits, out_bits] = GetParam();
  Rng rng(300 + static_cast<int>(mode) * 16 + in_bits + out_bits * 2);
  const std::vector<int32_t> self_weights =
      mode == AggregateMode::kSum ? std::vector<int32_t>{0, 65536, 32768, 98304, 1, (1 << 23) - 1, 70001}
                                  : std::vector<int32_t>{0};
  int combination = 0;
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const bool big = graph_case.graph.num_nodes() > 500;
    const std::vector<int32_t> widths = big ? std::vector<int32_t>{1, 17, 65} : testutil::awkward_widths();
    for (int32_t cols : widths) {
      ++combination;
      // Cycle the zero points through both extremes and a random interior value.
      const int32_t in_zero_points[] = {
          testutil::qmin_of(in_bits), testutil::qmax_of(in_bits),
          static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits)))};
      const int32_t out_zero_points[] = {
          testutil::qmax_of(out_bits), testutil::qmin_of(out_bits),
          static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits)))};
      QMatrix x(graph_case.graph.num_nodes(), cols, in_bits, in_zero_points[combination % 3]);
      x.fill_random(rng);
      for (int32_t self_weight : self_weights) {
        AggregateSetup setup{mode, testutil::random_rescale(rng, big ? 9 : 6, 2), self_weight,
                             out_zero_points[(combination / 3) % 3], out_bits};
        check_aggregate(graph_case.name + " cols=" + std::to_string(cols), graph_case.graph, x, setup, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(AggregateTest, ConstantExtremeInputs) {
  // Every feature at one extreme and the zero point at the other: the largest |x - zx| (255 or 15).
  const auto [mode, in_bits, out_bits] = GetParam();
  Rng rng(400);
  const Csr graph = testutil::RandomGraph().nodes(30).avg_degree(6).isolated_fraction(0.2).seed(41).build();
  for (bool positive : {true, false}) {
    const int32_t value = positive ? testutil::qmax_of(in_bits) : testutil::qmin_of(in_bits);
    const int32_t zx = positive ? testutil::qmin_of(in_bits) : testutil::qmax_of(in_bits);
    QMatrix x(graph.num_nodes(), 15, in_bits, zx);
    x.fill(value);
    for (int shift : {31, 36, 40}) {  // from saturating to mid-range
      AggregateSetup setup{mode, Rescale{INT32_MAX, shift}, mode == AggregateMode::kSum ? (1 << 23) - 1 : 0,
                           0, out_bits};
      check_aggregate("extreme", graph, x, setup, rng);
    }
  }
}

TEST_P(AggregateTest, BiasAndReluMatchOracle) {
  // The bias (kSum, kGcn only) from small to +-(2^30 - 1), the ReLU with the output zero point at qmin (no
  // clamp), qmax (everything clamps) and inside; isolated nodes and self-loops.
  const auto [mode, in_bits, out_bits] = GetParam();
  Rng rng(440 + static_cast<int>(mode) * 16 + in_bits + out_bits * 2);
  const Csr graph = testutil::RandomGraph()
                        .nodes(40)
                        .avg_degree(4)
                        .isolated_fraction(0.2)
                        .allow_self_loops(true)
                        .seed(43)
                        .build();
  const bool biased = mode == AggregateMode::kSum || mode == AggregateMode::kGcn;
  constexpr int64_t kBiasMax = (int64_t{1} << 30) - 1;
  for (int32_t cols : {1, 7, 16, 33}) {
    QMatrix x(graph.num_nodes(), cols, in_bits,
              static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))));
    x.fill_random(rng);
    for (int64_t bias_max : {int64_t{0}, int64_t{300}, kBiasMax}) {
      std::vector<int32_t> bias(static_cast<size_t>(cols));
      for (auto& b : bias) b = static_cast<int32_t>(rng.uniform_int(-bias_max, bias_max));
      if (bias_max == kBiasMax) bias[0] = static_cast<int32_t>(rng.chance(0.5) ? kBiasMax : -kBiasMax);
      for (int32_t zo : {testutil::qmin_of(out_bits), testutil::qmax_of(out_bits), 0}) {
        for (bool relu : {false, true}) {
          AggregateSetup setup{mode, testutil::random_rescale(rng, 6, 2),
                               mode == AggregateMode::kSum ? 32768 : 0, zo, out_bits};
          setup.bias = biased && bias_max > 0 ? &bias : nullptr;
          setup.relu = relu;
          check_aggregate("bias/relu cols=" + std::to_string(cols), graph, x, setup, rng);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

std::string mode_name(AggregateMode mode) {
  switch (mode) {
    case AggregateMode::kSum:
      return "Sum";
    case AggregateMode::kMean:
      return "Mean";
    case AggregateMode::kMax:
      return "Max";
    case AggregateMode::kGcn:
      return "Gcn";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(AllModesAndBits, AggregateTest,
                         ::testing::Combine(::testing::Values(AggregateMode::kSum, AggregateMode::kMean,
                                                              AggregateMode::kMax, AggregateMode::kGcn),
                                            ::testing::Values(8, 4), ::testing::Values(8, 4)),
                         [](const ::testing::TestParamInfo<AggregateParam>& info) {
                           return mode_name(std::get<0>(info.param)) + "_In" +
                                  std::to_string(std::get<1>(info.param)) + "_Out" +
                                  std::to_string(std::get<2>(info.param));
                         });

TEST(Aggregate, WritesOnlyItsRows) {
  Rng rng(410);
  const Csr graph = testutil::RandomGraph().nodes(20).avg_degree(4).seed(42).build();
  for (int out_bits : {8, 4}) {
    QMatrix x(20, 7, 8, 5);
    x.fill_random(rng);
    QMatrix out(20, 7, out_bits, 0);
    out.poison(0xC3);
    const std::vector<uint8_t> before = out.bytes();
    aggregate(graph.view(), {AggregateMode::kSum, Rescale{1 << 30, 31}, 0, nullptr}, x.cview(), 7, out.view(),
              5, 9);
    for (size_t b = 0; b < before.size(); ++b) {
      const bool inside = b >= 5 * out.row_stride() && b < 9 * out.row_stride();
      if (!inside) {
        ASSERT_EQ(out.bytes()[b], before[b]) << "byte " << b << " outside rows [5, 9) changed";
      }
    }
  }
}

TEST(Aggregate, GinSelfWeightOneIsTheNodeItself) {
  // self_weight_q16 = 2^16 adds exactly (x_i - zx); an isolated node then maps x_i through rq alone.
  const Csr graph = Csr::from_in_neighbours({{}, {}, {0, 1}});
  QMatrix x(3, 3, 8, -3);
  x.set(0, 0, 10), x.set(0, 1, -128), x.set(0, 2, 127);
  x.set(1, 0, 1), x.set(1, 1, 2), x.set(1, 2, 3);
  x.set(2, 0, 0), x.set(2, 1, 0), x.set(2, 2, 0);
  QMatrix out(3, 3, 8, 0);
  // multiplier 2^30, shift 30: factor 1.
  aggregate(graph.view(), {AggregateMode::kSum, Rescale{1 << 30, 30}, 65536, nullptr}, x.cview(), 3,
            out.view(), 0, 3);
  EXPECT_EQ(out.get(0, 0), 13);
  EXPECT_EQ(out.get(0, 1), -125);
  EXPECT_EQ(out.get(0, 2), 127);  // 130 saturates
  EXPECT_EQ(out.get(2, 0), (10 + 3) + (1 + 3) + 3);
  EXPECT_EQ(out.get(2, 1), (-128 + 3) + (2 + 3) + 3);
}

TEST(Aggregate, MeanRoundsAsDocumentedNearHalves) {
  // Node 0 averages `count` leaves whose column sums sit on and around every half (see the pool test).
  Rng rng(430);
  for (int32_t count = 1; count <= 48; ++count) {
    const Csr graph = testutil::star_into_center(count);
    const std::vector<int64_t> sums = testutil::sums_around_mean_halves(count);
    const int32_t cols = static_cast<int32_t>(sums.size());
    QMatrix x(count + 1, cols, 8, 0);
    testutil::set_column_sums(x, 1, count, sums);
    const std::vector<int32_t> norms = oracle_norms(graph);
    for (const Rescale rq :
         {Rescale{1 << 30, 30}, Rescale{1 << 30, 31}, testutil::random_rescale(rng, 2, 2)}) {
      const AggregateSetup setup{AggregateMode::kMean, rq, 0, 0, 8};
      QMatrix out(count + 1, cols, 8, 0);
      run_aggregate(graph, x, norms, setup, out, 0, 1);
      for (int32_t c = 0; c < cols; ++c) {
        ASSERT_EQ(out.get(0, c), expected_element(graph, x, norms, setup, 0, c))
            << "count=" << count << " col=" << c;
      }
    }
  }
}

TEST(Aggregate, AccumulatorLimitsAtMaximumDegree) {
  // A node with 2^22 in-neighbours (the runtime's maximum degree), every |x - zx| = 255: the int32 sum
  // reaches 255 * 2^22 (< 2^30) and the GCN int64 sum 255 * 2^15 * 2^22. UBSan flags any overflow.
  constexpr int32_t kLeaves = 1 << 22;
  const Csr graph = testutil::star_into_center(kLeaves);
  const std::vector<int32_t> norms = oracle_norms(graph);
  Rng rng(420);
  for (bool positive : {true, false}) {
    QMatrix x(graph.num_nodes(), 1, 8, positive ? -128 : 127);
    x.fill(positive ? 127 : -128);
    for (AggregateMode mode :
         {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax, AggregateMode::kGcn}) {
      for (int shift : {40, 1}) {
        const AggregateSetup setup{mode, Rescale{INT32_MAX, shift},
                                   mode == AggregateMode::kSum ? (1 << 23) - 1 : 0, 0, 8};
        QMatrix out(1, 1, 8, 0);
        aggregate(graph.view(), {mode, setup.rq, setup.self_weight_q16, norms.data()}, x.cview(), 1,
                  out.view(), 0, 1);
        EXPECT_EQ(out.get(0, 0), expected_element(graph, x, norms, setup, 0, 0))
            << mode_name(mode) << " positive=" << positive << " shift=" << shift;
      }
    }
  }
}

// docs/quantization.md, "Transform-first GCNConv", worked example, pinned so the document and the kernels
// cannot drift apart: int8, one node without edges (d = 1, n = 32768, so t = m - z_m exactly),
// x - zx = [10, -4], w = [[3, 1]], M / 2^E = 0.25, z_m = 2 -> m = 2 + rescale(26) = 9 (6.5 rounds half up);
// t = 7, b = 5, factor 0.5, zo = -1, ReLU -> out = -1 + rescale(12) = 5.
TEST(Aggregate, TransformFirstGcnDocumentedExample) {
  const Csr graph = Csr::from_in_neighbours({{}});
  const int32_t zx = 3;  // any input zero point: only x - zx = [10, -4] matters
  QMatrix x(1, 2, 8, zx);
  x.set(0, 0, 10 + zx);
  x.set(0, 1, -4 + zx);
  const int8_t weights[] = {3, 1};
  const int32_t dense_multiplier[] = {1 << 30}, dense_shift[] = {32};  // 2^30 / 2^32 = 0.25
  QMatrix message(1, 1, 8, /*z_m=*/2);
  dense(x.cview(), 2, QWeights{weights, 8}, /*bias=*/nullptr, ChannelRescale{dense_multiplier, dense_shift},
        /*extra=*/nullptr, /*relu=*/false, message.view(), 1, 0, 1);
  ASSERT_EQ(message.get(0, 0), 9);

  std::vector<int32_t> norms(1);
  gcn_norm(graph.view(), norms.data(), 0, 1);
  ASSERT_EQ(norms[0], 32768);
  const std::vector<int32_t> bias = {5};
  for (bool relu : {true, false}) {
    AggregateParams params{AggregateMode::kGcn, Rescale{1 << 30, 31}, 0, norms.data()};  // factor 0.5
    params.bias = bias.data();
    params.relu = relu;
    QMatrix out(1, 1, 8, /*zo=*/-1);
    aggregate(graph.view(), params, message.cview(), 1, out.view(), 0, 1);
    EXPECT_EQ(out.get(0, 0), 5) << "relu=" << relu;  // above zo: the ReLU changes nothing
  }

  // The same node with a bias that takes it below zero: t + b = 7 - 20 = -13, rescale(-13 * 0.5) = -6
  // (-6.5 rounds half up), -1 - 6 = -7 without the ReLU, zo = -1 (real 0) with it.
  const std::vector<int32_t> negative_bias = {-20};
  for (bool relu : {false, true}) {
    AggregateParams params{AggregateMode::kGcn, Rescale{1 << 30, 31}, 0, norms.data()};
    params.bias = negative_bias.data();
    params.relu = relu;
    QMatrix out(1, 1, 8, -1);
    aggregate(graph.view(), params, message.cview(), 1, out.view(), 0, 1);
    EXPECT_EQ(out.get(0, 0), relu ? -1 : -7) << "relu=" << relu;
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
