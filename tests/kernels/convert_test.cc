// quantize_rows / pack_rows_int8 / dequantize_rows / argmax_rows(_f32) / gcn_norm against oracles, for
// every bit width, awkward widths, odd int4 rows (pad nibble) and arbitrary row splits.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
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

std::vector<float> random_floats(Rng& rng, size_t count, float scale) {
  std::vector<float> values(count);
  for (float& v : values) {
    const double pick = rng.uniform_real(0.0, 1.0);
    if (pick < 0.15) {
      v = (static_cast<float>(rng.uniform_int(-140, 140)) + 0.5f) * scale;  // exact half steps
    } else if (pick < 0.2) {
      // The float next to a half step, toward zero: must NOT round away.
      const float half = (static_cast<float>(rng.uniform_int(-140, 140)) + 0.5f) * scale;
      v = std::nextafter(half, 0.0f);
    } else if (pick < 0.25) {
      v = rng.chance(0.5) ? 1e30f : -FLT_MAX;  // saturation
    } else {
      v = static_cast<float>(rng.uniform_real(-150.0, 150.0)) * scale;
    }
  }
  return values;
}

class ConvertTest : public ::testing::TestWithParam<int> {};

TEST_P(ConvertTest, QuantizeRowsMatchesOracleOnEverySplit) {
  const int bits = GetParam();
  Rng rng(200 + bits);
  for (int32_t cols : testutil::awkward_widths()) {
    for (int32_t rows : {0, 1, 9}) {
      for (int32_t zero_point : {testutil::qmin_of(bits), 0, testutil::qmax_of(bits), 3}) {
        const float scale = 0.25f;
        const std::vector<float> in = random_floats(rng, static_cast<size_t>(rows) * cols, scale);
        QMatrix whole(rows, cols, bits, zero_point), split(rows, cols, bits, zero_point);
        whole.poison(0xFF);
        split.poison(0x5A);
        quantize_rows(in.data(), cols, scale, nullptr, whole.view(), 0, rows);
        for (const auto& chunk : testutil::random_split(0, rows, rng)) {
          quantize_rows(in.data(), cols, scale, nullptr, split.view(), chunk.first, chunk.second);
        }
        for (int32_t r = 0; r < rows; ++r) {
          for (int32_t c = 0; c < cols; ++c) {
            ASSERT_EQ(whole.get(r, c),
                      oracle::quantize(in[static_cast<size_t>(r) * cols + c], scale, zero_point, bits))
                << "r=" << r << " c=" << c << " cols=" << cols;
          }
        }
        EXPECT_TRUE(whole.pad_nibbles_are_zero());
        EXPECT_EQ(whole.row_range_bytes(0, rows), split.row_range_bytes(0, rows));
      }
    }
  }
}

// Per-column input scales (docs/quantization.md): column k divides by column_scales[k], the tensor scale is
// ignored, and scales that differ by 10^5 between columns (one-hot next to raw attributes) keep both exact.
TEST_P(ConvertTest, QuantizeRowsWithColumnScalesMatchesOracle) {
  const int bits = GetParam();
  Rng rng(205 + bits);
  for (int32_t cols : testutil::awkward_widths()) {
    std::vector<float> column_scales(static_cast<size_t>(cols));
    for (int32_t c = 0; c < cols; ++c)
      column_scales[static_cast<size_t>(c)] =
          c % 3 == 0 ? 1.0f / 127.0f : static_cast<float>(rng.uniform_real(0.01, 900.0));
    for (int32_t rows : {1, 9}) {
      for (int32_t zero_point : {testutil::qmin_of(bits), 0, 3}) {
        std::vector<float> in(static_cast<size_t>(rows) * cols);
        for (size_t i = 0; i < in.size(); ++i) {
          const float s = column_scales[i % static_cast<size_t>(cols)];
          in[i] = static_cast<float>(rng.uniform_real(-1.2, 1.2)) * s *
                  static_cast<float>(testutil::qmax_of(bits));
        }
        QMatrix whole(rows, cols, bits, zero_point), split(rows, cols, bits, zero_point);
        whole.poison(0xFF);
        split.poison(0x5A);
        quantize_rows(in.data(), cols, 1.0e6f, column_scales.data(), whole.view(), 0, rows);
        for (const auto& chunk : testutil::random_split(0, rows, rng)) {
          quantize_rows(in.data(), cols, 1.0e6f, column_scales.data(), split.view(), chunk.first,
                        chunk.second);
        }
        for (int32_t r = 0; r < rows; ++r) {
          for (int32_t c = 0; c < cols; ++c) {
            ASSERT_EQ(whole.get(r, c),
                      oracle::quantize(in[static_cast<size_t>(r) * cols + c],
                                       column_scales[static_cast<size_t>(c)], zero_point, bits))
                << "r=" << r << " c=" << c << " cols=" << cols;
          }
        }
        EXPECT_TRUE(whole.pad_nibbles_are_zero());
        EXPECT_EQ(whole.row_range_bytes(0, rows), split.row_range_bytes(0, rows));
      }
    }
  }
}

TEST_P(ConvertTest, PackRowsInt8CopiesValuesAndZeroesPad) {
  const int bits = GetParam();
  Rng rng(210 + bits);
  for (int32_t cols : testutil::awkward_widths()) {
    const int32_t rows = 7;
    std::vector<int8_t> in(static_cast<size_t>(rows) * cols);
    for (int8_t& v : in)
      v = static_cast<int8_t>(rng.uniform_int(testutil::qmin_of(bits), testutil::qmax_of(bits)));
    QMatrix whole(rows, cols, bits, 0), split(rows, cols, bits, 0);
    whole.poison(0xFF);
    pack_rows_int8(in.data(), cols, whole.view(), 0, rows);
    for (const auto& chunk : testutil::random_split(0, rows, rng)) {
      pack_rows_int8(in.data(), cols, split.view(), chunk.first, chunk.second);
    }
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t c = 0; c < cols; ++c) ASSERT_EQ(whole.get(r, c), in[static_cast<size_t>(r) * cols + c]);
    }
    EXPECT_TRUE(whole.pad_nibbles_are_zero());
    EXPECT_EQ(whole.row_range_bytes(0, rows), split.row_range_bytes(0, rows));
  }
}

TEST_P(ConvertTest, DequantizeRowsMatchesOracle) {
  const int bits = GetParam();
  Rng rng(220 + bits);
  for (int32_t cols : testutil::awkward_widths()) {
    for (int32_t zero_point : {testutil::qmin_of(bits), -1, testutil::qmax_of(bits)}) {
      const int32_t rows = 6;
      QMatrix in(rows, cols, bits, zero_point);
      in.fill_random(rng);
      const float scale = 0.0371f;
      std::vector<float> out(static_cast<size_t>(rows) * cols, -1.0f), split(out.size(), -2.0f);
      dequantize_rows(in.cview(), cols, scale, out.data(), 0, rows);
      for (const auto& chunk : testutil::random_split(0, rows, rng)) {
        dequantize_rows(in.cview(), cols, scale, split.data(), chunk.first, chunk.second);
      }
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t c = 0; c < cols; ++c) {
          // scale * (q - zp) is one binary32 product: exact in double, then rounded once.
          const float want = static_cast<float>(static_cast<double>(scale) * (in.get(r, c) - zero_point));
          ASSERT_EQ(out[static_cast<size_t>(r) * cols + c], want);
        }
      }
      EXPECT_EQ(out, split);
    }
  }
}

TEST_P(ConvertTest, ArgmaxRowsTakesFirstMaximum) {
  const int bits = GetParam();
  Rng rng(230 + bits);
  for (int32_t cols : testutil::awkward_widths()) {
    const int32_t rows = 12;
    QMatrix in(rows, cols, bits, 0);
    // A narrow value range forces many ties.
    in.fill_random(rng, testutil::qmax_of(bits) - 3, testutil::qmax_of(bits));
    std::vector<int32_t> out(rows, -7);
    argmax_rows(in.cview(), cols, out.data(), 0, rows);
    for (int32_t r = 0; r < rows; ++r) {
      int32_t want = 0;
      for (int32_t c = 1; c < cols; ++c) {
        if (in.get(r, c) > in.get(r, want)) want = c;
      }
      ASSERT_EQ(out[r], want) << "r=" << r << " cols=" << cols;
    }
  }
  // All equal: index 0. Maximum at the last, odd position of an int4 row.
  QMatrix equal(1, 17, bits, 0);
  equal.fill(testutil::qmin_of(bits));
  int32_t index = -1;
  argmax_rows(equal.cview(), 17, &index, 0, 1);
  EXPECT_EQ(index, 0);
  equal.set(0, 16, testutil::qmax_of(bits));
  argmax_rows(equal.cview(), 17, &index, 0, 1);
  EXPECT_EQ(index, 16);
  // No columns: no index.
  argmax_rows(equal.cview(), 0, &index, 0, 1);
  EXPECT_EQ(index, -1);
}

INSTANTIATE_TEST_SUITE_P(Bits, ConvertTest, ::testing::Values(8, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Int" + std::to_string(info.param);
                         });

TEST(ArgmaxF32, FirstMaximumAndTies) {
  const std::vector<float> in = {1.0f,     3.0f,     3.0f,     -1.0f,  // tie: first
                                 -5.0f,    -4.0f,    -4.5f,    -4.0f,  // negative
                                 0.0f,     -0.0f,    0.0f,     0.0f,   // -0 == 0: first
                                 -FLT_MAX, -FLT_MAX, -FLT_MAX, FLT_MAX};
  std::vector<int32_t> out(4, -9);
  argmax_rows_f32(in.data(), 4, out.data(), 0, 2);
  argmax_rows_f32(in.data(), 4, out.data(), 2, 4);
  EXPECT_EQ(out, (std::vector<int32_t>{1, 1, 0, 3}));
  int32_t index = 5;
  argmax_rows_f32(in.data(), 0, &index, 0, 1);
  EXPECT_EQ(index, -1);
}

TEST(GcnNorm, MatchesOracleOnEveryGraphAndSplit) {
  Rng rng(240);
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const Csr& graph = graph_case.graph;
    const int32_t n = graph.num_nodes();
    std::vector<int32_t> norm(static_cast<size_t>(n) + 1, -1), split(norm.size(), -2);
    gcn_norm(graph.view(), norm.data(), 0, n);
    for (const auto& chunk : testutil::random_split(0, n, rng))
      gcn_norm(graph.view(), split.data(), chunk.first, chunk.second);
    for (int32_t i = 0; i < n; ++i) {
      ASSERT_EQ(norm[static_cast<size_t>(i)],
                oracle::gcn_norm_q15(static_cast<uint64_t>(graph.degree(i)) + 1))
          << graph_case.name << " node " << i;
    }
    EXPECT_EQ(norm[static_cast<size_t>(n)], -1) << "wrote past the range";
    norm.back() = split.back();
    EXPECT_EQ(norm, split) << graph_case.name;
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

namespace qgnn {
namespace kernels {
namespace {

TEST(EmptyShapes, NoColumnsNeverTouchTheBuffers) {
  // Zero-width activations may be handed over as null pointers: no kernel may dereference (or memset) them.
  const testutil::Csr graph = testutil::RandomGraph().nodes(9).avg_degree(3).seed(250).build();
  const int32_t graph_ptr[] = {0, 4, 9};
  for (int bits : {8, 4}) {
    const QActivation out{nullptr, bits, 0};
    const QActivationConst in{nullptr, bits, 0};
    quantize_rows(nullptr, 0, 1.0f, nullptr, out, 0, 9);
    pack_rows_int8(nullptr, 0, out, 0, 9);
    dequantize_rows(in, 0, 1.0f, nullptr, 0, 9);
    for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax}) {
      aggregate(graph.view(), {mode, Rescale{1 << 30, 31}, 65536, nullptr}, in, 0, out, 0, 9);
      global_pool(graph_ptr, mode, in, 0, Rescale{1 << 30, 31}, out, 0, 2);
    }
    dense(in, 0, QWeights{nullptr, bits}, nullptr, ChannelRescale{nullptr, nullptr}, nullptr, true, out, 0, 0,
          9);
  }
  SUCCEED();
}

TEST(EmptyShapes, DenseWithoutInputsIsTheRescaledBias) {
  const int32_t bias[] = {-1000, 0, 7, 1000};
  const int32_t multipliers[] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shifts[] = {31, 31, 31, 31};
  QMatrix out(2, 4, 8, -5);
  dense(QActivationConst{nullptr, 8, 3}, 0, QWeights{nullptr, 8}, bias, ChannelRescale{multipliers, shifts},
        nullptr, false, out.view(), 4, 0, 2);
  for (int32_t r = 0; r < 2; ++r) {
    EXPECT_EQ(out.get(r, 0), -128);    // -5 - 500 saturates
    EXPECT_EQ(out.get(r, 1), -5);      // real 0
    EXPECT_EQ(out.get(r, 2), -5 + 4);  // 3.5 rounds up
    EXPECT_EQ(out.get(r, 3), 127);
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
