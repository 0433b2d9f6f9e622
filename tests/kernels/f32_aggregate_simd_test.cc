// The FP32 aggregate_f32 twins (KernelTable::aggregate_f32) against the reference aggregate_f32, bit for bit:
// the twins perform each column's float operations in the reference's order (f32-aggregate-body.h), so the
// stated tolerance is zero. Only NaNs are compared as "both NaN": their payload may depend on which operand
// the compiler put first. Every mode on the adversarial graphs, widths around every vector and tile width,
// GIN self weights, signed zeros, infinities and NaNs, and random row splits (thread counts).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Csr;
using testutil::Rng;

const AggregateMode kModes[] = {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax,
                                AggregateMode::kGcn};

class F32AggregateSimdTest : public simdtest::TwinTest {};

/// Widths around NEON's 4, AVX2's 8 and AVX-512's 16 lanes and the tiles of 32 / 64 columns.
const std::vector<int32_t> kWidths = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129};

std::vector<float> random_features(int32_t rows, int32_t cols, bool specials, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(rows) * static_cast<size_t>(cols));
  const float special[] = {0.0f,
                           -0.0f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::denorm_min(),
                           3.0e38f};
  for (float& v : x) {
    v = specials && rng.chance(0.05) ? special[rng.uniform_int(0, 6)]
                                     : static_cast<float>(rng.uniform_real(-4.0, 4.0));
  }
  return x;
}

::testing::AssertionResult same_floats(const std::vector<float>& expected, const std::vector<float>& actual,
                                       int32_t cols) {
  for (size_t i = 0; i < expected.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &expected[i], sizeof a);
    std::memcpy(&b, &actual[i], sizeof b);
    if (a != b && !(std::isnan(expected[i]) && std::isnan(actual[i]))) {
      return ::testing::AssertionFailure()
             << "row " << i / static_cast<size_t>(cols) << " col " << i % static_cast<size_t>(cols)
             << ": reference " << expected[i] << ", twin " << actual[i];
    }
  }
  return ::testing::AssertionSuccess();
}

/// One call of the table's aggregate_f32 over random row ranges against the reference over all rows; the
/// output starts as a canary pattern so a twin writing past a row shows.
::testing::AssertionResult check(const KernelTable& table, const Csr& graph, AggregateMode mode, int32_t cols,
                                 float self_weight, bool specials, Rng& rng) {
  const int32_t n = graph.num_nodes();
  const std::vector<float> x = random_features(n, cols, specials, rng);
  std::vector<float> expected(x.size(), 12345.0f), actual(x.size(), 12345.0f);
  aggregate_f32(graph.view(), mode, x.data(), cols, self_weight, expected.data(), 0, n);
  int32_t begin = 0;
  while (begin < n) {
    const int32_t end = static_cast<int32_t>(rng.uniform_int(begin + 1, n));
    table.aggregate_f32(graph.view(), mode, x.data(), cols, self_weight, actual.data(), begin, end);
    begin = end;
  }
  return same_floats(expected, actual, cols);
}

TEST_P(F32AggregateSimdTest, AdversarialGraphsAllModesAndWidths) {
  Rng rng(900 + static_cast<int>(GetParam()));
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const bool big = graph_case.graph.num_nodes() > 500;
    const std::vector<int32_t> widths = big ? std::vector<int32_t>{1, 17, 64, 65} : kWidths;
    for (AggregateMode mode : kModes) {
      for (int32_t cols : widths) {
        for (bool specials : {false, true}) {
          const float self_weight =
              mode == AggregateMode::kSum ? rng.pick(std::vector<float>{0.0f, 1.0f, 1.25f, -0.5f}) : 0.0f;
          ASSERT_TRUE(check(*table(), graph_case.graph, mode, cols, self_weight, specials, rng))
              << graph_case.name << " mode " << static_cast<int>(mode) << " cols " << cols;
        }
      }
    }
  }
}

TEST_P(F32AggregateSimdTest, CoraSizedRandomGraph) {
  Rng rng(77);
  const Csr graph = testutil::RandomGraph().nodes(2708).avg_degree(4).isolated_fraction(0.02).seed(5).build();
  for (AggregateMode mode : kModes) {
    for (int32_t cols : {7, 16, 64}) {
      EXPECT_TRUE(check(*table(), graph, mode, cols, mode == AggregateMode::kSum ? 1.0f : 0.0f, false, rng));
    }
  }
}

TEST_P(F32AggregateSimdTest, ZeroColumnsWritesNothing) {
  const Csr graph = testutil::RandomGraph().nodes(5).avg_degree(2).seed(3).build();
  float canary = 1.0f;
  for (AggregateMode mode : kModes) {
    table()->aggregate_f32(graph.view(), mode, &canary, 0, 0.0f, &canary, 0, graph.num_nodes());
  }
  EXPECT_EQ(canary, 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Isas, F32AggregateSimdTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
