// global_pool() against an int128 oracle for sum / mean / max x input bits x output bits, on batches
// with empty graphs, single-node graphs, a large graph, extreme zero points and arbitrary graph splits.
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

using testutil::QMatrix;
using testutil::Rng;

int32_t expected_pool(const std::vector<int32_t>& graph_ptr, AggregateMode mode, const QMatrix& x, Rescale rq,
                      int32_t graph, int32_t col, int32_t out_zero_point, int out_bits) {
  const int32_t first = graph_ptr[static_cast<size_t>(graph)],
                last = graph_ptr[static_cast<size_t>(graph) + 1];
  if (first == last) return out_zero_point;
  int64_t sum = 0, best = INT64_MIN;
  for (int32_t node = first; node < last; ++node) {
    sum += x.get(node, col) - x.zero_point();
    best = std::max<int64_t>(best, x.get(node, col));
  }
  oracle::int128 value = out_zero_point;
  if (mode == AggregateMode::kSum) value += oracle::rescale(sum, rq.multiplier, rq.shift);
  if (mode == AggregateMode::kMax) value += oracle::rescale(best - x.zero_point(), rq.multiplier, rq.shift);
  if (mode == AggregateMode::kMean) {
    const oracle::MeanRescale mean = oracle::mean_rescale(rq.multiplier, rq.shift, last - first);
    value += oracle::rescale(sum, mean.multiplier, mean.shift);
  }
  return oracle::saturate(value, out_bits);
}

/// graph_ptr of a batch with the given node counts.
std::vector<int32_t> batch(const std::vector<int32_t>& sizes) {
  std::vector<int32_t> graph_ptr{0};
  for (int32_t size : sizes) graph_ptr.push_back(graph_ptr.back() + size);
  return graph_ptr;
}

using PoolParam = std::tuple<AggregateMode, int, int>;

class PoolTest : public ::testing::TestWithParam<PoolParam> {};

TEST_P(PoolTest, MatchesOracleOnBatches) {
  const auto [mode, in_bits, out_bits] = GetParam();
  Rng rng(600 + static_cast<int>(mode) * 16 + in_bits + out_bits * 2);
  std::vector<std::vector<int32_t>> batches = {{},     {0},         {1}, {0, 0, 3}, {5, 0, 1, 7, 0},
                                               {5000}, {1, 4096, 2}};
  std::vector<int32_t> random_sizes;
  for (int g = 0; g < 40; ++g) random_sizes.push_back(static_cast<int32_t>(rng.uniform_int(0, 30)));
  batches.push_back(random_sizes);

  int combination = 0;
  for (const auto& sizes : batches) {
    const std::vector<int32_t> graph_ptr = batch(sizes);
    const int32_t graphs = static_cast<int32_t>(sizes.size()), nodes = graph_ptr.back();
    for (int32_t cols : nodes > 1000 ? std::vector<int32_t>{1, 17} : testutil::awkward_widths()) {
      ++combination;
      const int32_t zx = std::vector<int32_t>{testutil::qmin_of(in_bits), testutil::qmax_of(in_bits),
                                              0}[static_cast<size_t>(combination % 3)];
      const int32_t zo = std::vector<int32_t>{testutil::qmax_of(out_bits), testutil::qmin_of(out_bits),
                                              1}[static_cast<size_t>((combination / 3) % 3)];
      QMatrix x(nodes, cols, in_bits, zx);
      x.fill_random(rng);
      const Rescale rq = testutil::random_rescale(rng, nodes > 1000 ? 9 : 6, 2);
      QMatrix whole(graphs, cols, out_bits, zo), split(graphs, cols, out_bits, zo);
      whole.poison(0xBB);
      split.poison(0x44);
      global_pool(graph_ptr.data(), mode, x.cview(), cols, rq, whole.view(), 0, graphs);
      for (const auto& chunk : testutil::random_split(0, graphs, rng)) {
        global_pool(graph_ptr.data(), mode, x.cview(), cols, rq, split.view(), chunk.first, chunk.second);
      }
      for (int32_t g = 0; g < graphs; ++g) {
        for (int32_t c = 0; c < cols; ++c) {
          ASSERT_EQ(whole.get(g, c), expected_pool(graph_ptr, mode, x, rq, g, c, zo, out_bits))
              << "graph=" << g << " size=" << sizes[static_cast<size_t>(g)] << " col=" << c
              << " cols=" << cols;
        }
      }
      ASSERT_TRUE(whole.pad_nibbles_are_zero());
      ASSERT_EQ(whole.row_range_bytes(0, graphs), split.row_range_bytes(0, graphs)) << "depends on the split";
    }
  }
}

std::string pool_name(const ::testing::TestParamInfo<PoolParam>& info) {
  const AggregateMode mode = std::get<0>(info.param);
  const std::string name =
      mode == AggregateMode::kSum ? "Sum" : (mode == AggregateMode::kMean ? "Mean" : "Max");
  return name + "_In" + std::to_string(std::get<1>(info.param)) + "_Out" +
         std::to_string(std::get<2>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllModesAndBits, PoolTest,
                         ::testing::Combine(::testing::Values(AggregateMode::kSum, AggregateMode::kMean,
                                                              AggregateMode::kMax),
                                            ::testing::Values(8, 4), ::testing::Values(8, 4)),
                         pool_name);

TEST(Pool, MeanOfIdenticalValuesIsThatValue) {
  // Mean with factor 1 of n copies of v is v - zx, for every n (mean_rescale's rounding must not drift).
  const int32_t multiplier = 1 << 30, shift = 30;
  for (int32_t n : {1, 2, 3, 5, 7, 100, 1000, 4095}) {
    for (int32_t v : {-128, -37, 0, 1, 127}) {
      QMatrix x(n, 1, 8, 0);
      x.fill(v);
      const std::vector<int32_t> graph_ptr = {0, n};
      QMatrix out(1, 1, 8, 0);
      global_pool(graph_ptr.data(), AggregateMode::kMean, x.cview(), 1, Rescale{multiplier, shift},
                  out.view(), 0, 1);
      EXPECT_EQ(out.get(0, 0), v) << "n=" << n;
    }
  }
}

TEST(Pool, MeanRoundsAsDocumentedNearHalves) {
  // mean_rescale rounds the multiplier, so a mean that is exactly k + 1/2 may land just below the half
  // (count = 6: 3 * round(2^33 / 6) / 2^33 = 0.4999999999). Column sums sit on and around every half.
  Rng rng(610);
  for (int32_t count = 1; count <= 48; ++count) {
    const std::vector<int64_t> sums = testutil::sums_around_mean_halves(count);
    const int32_t cols = static_cast<int32_t>(sums.size());
    QMatrix x(count, cols, 8, 0);
    testutil::set_column_sums(x, 0, count, sums);
    const std::vector<int32_t> graph_ptr = {0, count};
    for (const Rescale rq :
         {Rescale{1 << 30, 30}, Rescale{1 << 30, 31}, testutil::random_rescale(rng, 2, 2)}) {
      QMatrix out(1, cols, 8, 0);
      global_pool(graph_ptr.data(), AggregateMode::kMean, x.cview(), cols, rq, out.view(), 0, 1);
      for (int32_t c = 0; c < cols; ++c) {
        ASSERT_EQ(out.get(0, c), expected_pool(graph_ptr, AggregateMode::kMean, x, rq, 0, c, 0, 8))
            << "count=" << count << " col=" << c;
      }
    }
  }
}

TEST(Pool, AccumulatorLimitsAtMaximumGraphSize) {
  // One graph of 2^22 nodes with |x - zx| = 255: the int32 sum reaches 255 * 2^22 < 2^30.
  constexpr int32_t kNodes = 1 << 22;
  const std::vector<int32_t> graph_ptr = {0, kNodes};
  for (bool positive : {true, false}) {
    QMatrix x(kNodes, 1, 8, positive ? -128 : 127);
    x.fill(positive ? 127 : -128);
    for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax}) {
      for (int shift : {1, 40}) {
        const Rescale rq{INT32_MAX, shift};
        QMatrix out(1, 1, 8, 0);
        global_pool(graph_ptr.data(), mode, x.cview(), 1, rq, out.view(), 0, 1);
        EXPECT_EQ(out.get(0, 0), expected_pool(graph_ptr, mode, x, rq, 0, 0, 0, 8)) << "shift=" << shift;
      }
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
