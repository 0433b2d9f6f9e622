// The float path against double oracles. Float sums differ from the exact value by at most about
// n * 2^-24 * sum|terms| (n terms), so each check uses that bound; max and the empty cases are exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Csr;
using testutil::Rng;

/// A value and the sum of the magnitudes of the terms that produced it (for the rounding bound).
struct Exact {
  double value = 0.0;
  double magnitude = 0.0;
  int64_t terms = 0;

  void add(double term) {
    value += term;
    magnitude += std::fabs(term);
    ++terms;
  }
  /// Generous float32 error bound for summing `terms` terms (plus a few extra operations).
  double tolerance() const { return (static_cast<double>(terms) + 4.0) * 0x1p-23 * magnitude + 1e-30; }
};

std::vector<float> random_floats(Rng& rng, size_t count) {
  std::vector<float> values(count);
  for (float& v : values) v = static_cast<float>(rng.uniform_real(-4.0, 4.0));
  return values;
}

/// Bitwise equality (so -0 != +0 and NaN == NaN), which is what "independent of the split" means.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

const float& at(const std::vector<float>& m, int32_t row, int32_t cols, int32_t col) {
  return m[static_cast<size_t>(row) * static_cast<size_t>(cols) + static_cast<size_t>(col)];
}

Exact expected_aggregate(const Csr& graph, AggregateMode mode, const std::vector<float>& x, int32_t cols,
                         float self_weight, int32_t node, int32_t col) {
  Exact r;
  const int32_t first = graph.row_ptr[node], last = graph.row_ptr[node + 1];
  const int32_t degree = last - first;
  switch (mode) {
    case AggregateMode::kSum:
      for (int32_t e = first; e < last; ++e) r.add(at(x, graph.col_idx[e], cols, col));
      if (self_weight != 0.0f) r.add(static_cast<double>(self_weight) * at(x, node, cols, col));
      break;
    case AggregateMode::kMean:
      for (int32_t e = first; e < last; ++e)
        r.add(at(x, graph.col_idx[e], cols, col) / static_cast<double>(degree));
      break;
    case AggregateMode::kMax:
      if (degree > 0) {
        r.value = -INFINITY;
        for (int32_t e = first; e < last; ++e)
          r.value = std::max<double>(r.value, at(x, graph.col_idx[e], cols, col));
      }
      break;
    case AggregateMode::kGcn: {
      const double di = graph.degree(node) + 1.0;
      r.add(at(x, node, cols, col) / di);
      for (int32_t e = first; e < last; ++e) {
        const int32_t j = graph.col_idx[e];
        r.add(at(x, j, cols, col) / std::sqrt(di * (graph.degree(j) + 1.0)));
      }
      break;
    }
  }
  return r;
}

class AggregateF32Test : public ::testing::TestWithParam<AggregateMode> {};

TEST_P(AggregateF32Test, MatchesDoubleOracle) {
  const AggregateMode mode = GetParam();
  Rng rng(700 + static_cast<int>(mode));
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const Csr& graph = graph_case.graph;
    const int32_t n = graph.num_nodes();
    for (int32_t cols : {1, 3, 17, 65}) {
      for (float self_weight :
           mode == AggregateMode::kSum ? std::vector<float>{0.0f, 1.0f, 1.25f} : std::vector<float>{0.0f}) {
        const std::vector<float> x = random_floats(rng, static_cast<size_t>(n) * cols);
        std::vector<float> whole(x.size(), NAN), split(x.size(), -NAN);
        aggregate_f32(graph.view(), mode, x.data(), cols, self_weight, whole.data(), 0, n);
        for (const auto& chunk : testutil::random_split(0, n, rng)) {
          aggregate_f32(graph.view(), mode, x.data(), cols, self_weight, split.data(), chunk.first,
                        chunk.second);
        }
        for (int32_t i = 0; i < n; ++i) {
          for (int32_t c = 0; c < cols; ++c) {
            const Exact want = expected_aggregate(graph, mode, x, cols, self_weight, i, c);
            ASSERT_NEAR(at(whole, i, cols, c), want.value, want.tolerance())
                << graph_case.name << " node=" << i << " col=" << c;
            // Max picks an input; an empty neighbourhood (no self term) gives exactly 0.
            const bool empty_sum = graph.degree(i) == 0 && mode != AggregateMode::kGcn &&
                                   !(mode == AggregateMode::kSum && self_weight != 0.0f);
            if (mode == AggregateMode::kMax || empty_sum) {
              ASSERT_EQ(at(whole, i, cols, c), static_cast<float>(want.value)) << "must be exact";
            }
          }
        }
        ASSERT_TRUE(same_bits(whole, split)) << graph_case.name << ": depends on the split";
      }
    }
  }
}

std::string mode_name(const ::testing::TestParamInfo<AggregateMode>& info) {
  static const char* const kNames[] = {"Sum", "Mean", "Max", "Gcn"};
  return kNames[static_cast<int>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(AllModes, AggregateF32Test,
                         ::testing::Values(AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax,
                                           AggregateMode::kGcn),
                         mode_name);

TEST(DenseF32, MatchesDoubleOracle) {
  Rng rng(710);
  int config = 0;
  for (int32_t in_cols : testutil::awkward_widths()) {
    for (int32_t out_cols : {1, 3, 17}) {
      for (int repeat = 0; repeat < 2; ++repeat, ++config) {
        const bool with_bias = config % 2 == 0, relu = (config / 2) % 2 == 0,
                   with_extra = (config / 4) % 2 == 0;
        const int32_t rows = 1 + config % 5;
        const int32_t extra_cols = rng.pick(testutil::awkward_widths());
        const std::vector<float> x = random_floats(rng, static_cast<size_t>(rows) * in_cols);
        const std::vector<float> w = random_floats(rng, static_cast<size_t>(out_cols) * in_cols);
        const std::vector<float> bias = random_floats(rng, static_cast<size_t>(out_cols));
        const std::vector<float> ex = random_floats(rng, static_cast<size_t>(rows) * extra_cols);
        const std::vector<float> ew = random_floats(rng, static_cast<size_t>(out_cols) * extra_cols);
        const std::vector<float> eb = random_floats(rng, static_cast<size_t>(out_cols));
        const DenseExtraInputF32 extra{ex.data(), extra_cols, ew.data(), with_bias ? nullptr : eb.data()};

        std::vector<float> whole(static_cast<size_t>(rows) * out_cols, NAN), split(whole.size(), NAN);
        dense_f32(x.data(), in_cols, w.data(), with_bias ? bias.data() : nullptr,
                  with_extra ? &extra : nullptr, relu, whole.data(), out_cols, 0, rows);
        for (const auto& chunk : testutil::random_split(0, rows, rng)) {
          dense_f32(x.data(), in_cols, w.data(), with_bias ? bias.data() : nullptr,
                    with_extra ? &extra : nullptr, relu, split.data(), out_cols, chunk.first, chunk.second);
        }
        for (int32_t r = 0; r < rows; ++r) {
          for (int32_t c = 0; c < out_cols; ++c) {
            Exact want;
            if (with_bias) want.add(bias[static_cast<size_t>(c)]);
            for (int32_t k = 0; k < in_cols; ++k)
              want.add(static_cast<double>(at(x, r, in_cols, k)) * at(w, c, in_cols, k));
            if (with_extra) {
              if (!with_bias) want.add(eb[static_cast<size_t>(c)]);
              for (int32_t k = 0; k < extra_cols; ++k) {
                want.add(static_cast<double>(at(ex, r, extra_cols, k)) * at(ew, c, extra_cols, k));
              }
            }
            const float got = at(whole, r, out_cols, c);
            if (relu) {
              ASSERT_GE(got, 0.0f);
              ASSERT_NEAR(got, std::max(0.0, want.value), want.tolerance());
            } else {
              ASSERT_NEAR(got, want.value, want.tolerance())
                  << "in_cols=" << in_cols << " r=" << r << " c=" << c;
            }
          }
        }
        ASSERT_TRUE(same_bits(whole, split));
      }
    }
  }
}

TEST(GlobalPoolF32, MatchesDoubleOracle) {
  Rng rng(720);
  const std::vector<int32_t> sizes = {0, 1, 3, 0, 17, 2000, 5};
  std::vector<int32_t> graph_ptr{0};
  for (int32_t s : sizes) graph_ptr.push_back(graph_ptr.back() + s);
  const int32_t graphs = static_cast<int32_t>(sizes.size());
  for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax}) {
    for (int32_t cols : {1, 7, 65}) {
      const std::vector<float> x = random_floats(rng, static_cast<size_t>(graph_ptr.back()) * cols);
      std::vector<float> whole(static_cast<size_t>(graphs) * cols, NAN), split(whole.size(), NAN);
      global_pool_f32(graph_ptr.data(), mode, x.data(), cols, whole.data(), 0, graphs);
      for (const auto& chunk : testutil::random_split(0, graphs, rng)) {
        global_pool_f32(graph_ptr.data(), mode, x.data(), cols, split.data(), chunk.first, chunk.second);
      }
      for (int32_t g = 0; g < graphs; ++g) {
        const int32_t first = graph_ptr[static_cast<size_t>(g)], last = graph_ptr[static_cast<size_t>(g) + 1];
        for (int32_t c = 0; c < cols; ++c) {
          Exact want;
          if (mode == AggregateMode::kMax) {
            if (last > first) want.value = -INFINITY;
            for (int32_t i = first; i < last; ++i)
              want.value = std::max<double>(want.value, at(x, i, cols, c));
            ASSERT_EQ(at(whole, g, cols, c), static_cast<float>(want.value));
            continue;
          }
          for (int32_t i = first; i < last; ++i) {
            want.add(mode == AggregateMode::kMean ? at(x, i, cols, c) / static_cast<double>(last - first)
                                                  : at(x, i, cols, c));
          }
          if (first == last) {
            ASSERT_EQ(at(whole, g, cols, c), 0.0f) << "empty graph pools to 0";
          } else {
            ASSERT_NEAR(at(whole, g, cols, c), want.value, want.tolerance()) << "graph=" << g << " col=" << c;
          }
        }
      }
      ASSERT_TRUE(same_bits(whole, split));
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
