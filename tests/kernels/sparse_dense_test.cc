// Reference sparse_dense() against its defining identity: it must equal dense() run on the densified rows
// quantized with quantize_rows() (a zero quantizes to the zero point, a term of 0), byte for byte, for int8
// and int4 weights, inputs and outputs, one scale and per-column scales, saturating / tiny / half-step
// values, with and without bias and ReLU, and under arbitrary row splits. dense() and quantize_rows() are
// themselves checked against oracles (dense_test.cc, numerics_test.cc). quantize_sparse_rows() against
// quantize_rows() of the densified rows.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"
#include "sparse_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::QMatrix;
using testutil::QWeightMatrix;
using testutil::Rng;
using testutil::SparseMatrix;
using testutil::SparseValues;

struct IdentityCase {
  int32_t rows, in_cols, out_cols;
  int in_bits, weight_bits, out_bits;
  int32_t zx, zo;
  SparseValues values;
  bool column_scales, bias, relu;
  uint64_t seed;
};

::testing::AssertionResult identity_holds(const IdentityCase& c) {
  Rng rng(c.seed);
  const float scale = c.values == SparseValues::kHalfSteps ? 0.25f : 0.03f;
  const std::vector<float> scales =
      c.column_scales ? testutil::random_column_scales(c.in_cols, c.values, rng) : std::vector<float>{};
  const SparseMatrix x = testutil::random_sparse(c.rows, c.in_cols, 0.2, true, c.values, scales, scale, rng);
  QWeightMatrix w(c.out_cols, c.in_cols, c.weight_bits);
  w.fill_random(rng);
  std::vector<int32_t> bias;
  testutil::ChannelRescaleStore rq;
  for (int32_t ch = 0; ch < c.out_cols; ++ch) {
    bias.push_back(static_cast<int32_t>(rng.uniform_int(-(1 << 12), 1 << 12)));
    rq.multiplier.push_back(static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1)));
    rq.shift.push_back(static_cast<int32_t>(rng.uniform_int(28, 46)));  // some channels off the clamp
  }
  const int32_t* bias_ptr = c.bias ? bias.data() : nullptr;
  const float* scales_ptr = c.column_scales ? scales.data() : nullptr;

  // The definition: densify, quantize every element, dense().
  const std::vector<float> dense_x = x.densify();
  QMatrix quantized(c.rows, c.in_cols, c.in_bits, c.zx);
  quantize_rows(dense_x.data(), c.in_cols, scale, scales_ptr, quantized.view(), 0, c.rows);
  QMatrix expected(c.rows, c.out_cols, c.out_bits, c.zo), actual(c.rows, c.out_cols, c.out_bits, c.zo);
  expected.poison(0xEE);
  actual.poison(0x11);
  dense(quantized.cview(), c.in_cols, w.view(), bias_ptr, rq.view(), nullptr, c.relu, expected.view(),
        c.out_cols, 0, c.rows);
  const InputQuantization q{scale, scales_ptr, c.zx, c.in_bits};
  for (const auto& chunk : testutil::random_split(0, c.rows, rng)) {
    sparse_dense(x.view(), c.in_cols, q, w.view(), bias_ptr, rq.view(), c.relu, actual.view(), c.out_cols,
                 chunk.first, chunk.second);
  }
  if (expected.row_range_bytes(0, c.rows) != actual.row_range_bytes(0, c.rows)) {
    for (int32_t r = 0; r < c.rows; ++r) {
      for (int32_t ch = 0; ch < c.out_cols; ++ch) {
        if (expected.get(r, ch) != actual.get(r, ch)) {
          return ::testing::AssertionFailure()
                 << "row " << r << " channel " << ch << ": dense() " << expected.get(r, ch)
                 << ", sparse_dense() " << actual.get(r, ch) << " (seed " << c.seed << ")";
        }
      }
    }
    return ::testing::AssertionFailure() << "a pad nibble differs (seed " << c.seed << ")";
  }
  // A test that cannot fail is a defect: the random rescales must leave some outputs off the clamp.
  int32_t unclamped = 0;
  for (int32_t r = 0; r < c.rows; ++r) {
    for (int32_t ch = 0; ch < c.out_cols; ++ch) {
      const int32_t v = actual.get(r, ch);
      unclamped += v != testutil::qmin_of(c.out_bits) && v != testutil::qmax_of(c.out_bits);
    }
  }
  if (unclamped == 0)
    return ::testing::AssertionFailure() << "every output saturated (seed " << c.seed << ")";
  return ::testing::AssertionSuccess();
}

TEST(SparseDense, EqualsDenseOnTheDensifiedQuantizedRows) {
  uint64_t seed = 1;
  for (int weight_bits : {8, 4}) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (SparseValues values :
             {SparseValues::kRandom, SparseValues::kExtreme, SparseValues::kHalfSteps}) {
          for (bool column_scales : {false, true}) {
            const int32_t zx = in_bits == 8 ? -7 : 3, zo = out_bits == 8 ? 4 : -2;
            EXPECT_TRUE(
                identity_holds(IdentityCase{23, 37, 19, in_bits, weight_bits, out_bits, zx, zo, values,
                                            column_scales, seed % 2 == 0, seed % 3 == 0, seed}));
            ++seed;
          }
        }
      }
    }
  }
}

TEST(SparseDense, EqualsDenseAtOneColumnAndCoraWidth) {
  for (int weight_bits : {8, 4}) {
    EXPECT_TRUE(identity_holds(
        IdentityCase{9, 1, 7, 8, weight_bits, 8, -128, 0, SparseValues::kRandom, false, true, false, 100}));
    EXPECT_TRUE(identity_holds(IdentityCase{12, 1433, 16, 8, weight_bits, 8, -128, -128,
                                            SparseValues::kRandom, true, true, true, 101}));
  }
}

// quantize_sparse_rows() is quantize_rows() of the densified rows, pad nibbles included: int8 and int4, odd
// and even widths, one scale and per-column scales, the stress values, rows split arbitrarily, over poisoned
// buffers (so every byte must be written).
TEST(QuantizeSparseRows, EqualsQuantizeRowsOfTheDensifiedRows) {
  uint64_t seed = 200;
  int64_t off_zero = 0;  // elements that are not the zero point: the values must reach the rows
  for (int bits : {8, 4}) {
    for (int32_t cols : {1, 2, 37, 64, 1433}) {
      for (SparseValues values : {SparseValues::kRandom, SparseValues::kExtreme, SparseValues::kHalfSteps}) {
        for (bool column_scales : {false, true}) {
          SCOPED_TRACE(testing::Message() << "bits " << bits << " cols " << cols << " seed " << seed);
          Rng rng(seed++);
          const int32_t rows = 13, zx = bits == 8 ? -5 : 2;
          const float scale = values == SparseValues::kHalfSteps ? 0.25f : 0.03f;
          const std::vector<float> scales =
              column_scales ? testutil::random_column_scales(cols, values, rng) : std::vector<float>{};
          const float* scales_ptr = column_scales ? scales.data() : nullptr;
          const SparseMatrix x = testutil::random_sparse(rows, cols, 0.2, true, values, scales, scale, rng);
          const std::vector<float> dense_x = x.densify();
          QMatrix expected(rows, cols, bits, zx), actual(rows, cols, bits, zx);
          expected.poison(0xEE);
          actual.poison(0x11);
          quantize_rows(dense_x.data(), cols, scale, scales_ptr, expected.view(), 0, rows);
          for (const auto& chunk : testutil::random_split(0, rows, rng)) {
            quantize_sparse_rows(x.view(), cols, InputQuantization{scale, scales_ptr, zx, bits},
                                 actual.view(), chunk.first, chunk.second);
          }
          ASSERT_EQ(expected.row_range_bytes(0, rows), actual.row_range_bytes(0, rows));
          for (int32_t r = 0; r < rows; ++r) {
            for (int32_t c = 0; c < cols; ++c) off_zero += actual.get(r, c) != zx;
          }
        }
      }
    }
  }
  EXPECT_GT(off_zero, 1000);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
