// gather_nonzeros_f32 twins (the density probe's gather of dense float rows) against the reference: the same
// return value and the same row_ptr / col_idx / values entries (the bits of every value, NaN payloads and
// -0.0 excluded included), every width around the vector sizes and the twins' 32- / 64-float blocks and
// Cora's 1433, densities from empty to full, NaN / infinities / subnormals / -0.0, limits just below, at and
// above the count; rows that start and end inside a block (the twins scan a tile as one flat stream), empty
// and full rows, non-zeros on the first and last column, every start alignment; no twin writes past its
// kGatherSlack entries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using GatherSimdTest = simdtest::TwinTest;

struct Gathered {
  int64_t n = 0;
  std::vector<int32_t> row_ptr, col_idx;
  std::vector<uint32_t> value_bits;
};

// Runs `fn` into buffers of exactly max_nnz + kGatherSlack entries followed by guard words (poisoned with
// `poison`), checks the guards, and keeps the entries [0, n).
Gathered Run(decltype(&gather_nonzeros_f32) fn, const float* x, int32_t cols, int32_t rows, int64_t max_nnz,
             uint32_t poison) {
  constexpr size_t kGuard = 8;
  const size_t room = static_cast<size_t>(max_nnz) + kGatherSlack;
  std::vector<int32_t> row_ptr(static_cast<size_t>(rows) + 1 + kGuard, static_cast<int32_t>(poison));
  std::vector<int32_t> col_idx(room + kGuard, static_cast<int32_t>(poison));
  std::vector<float> values(room + kGuard);
  for (float& v : values) std::memcpy(&v, &poison, sizeof v);
  Gathered g;
  g.n = fn(x, cols, rows, max_nnz, row_ptr.data(), col_idx.data(), values.data());
  for (size_t i = 0; i < kGuard; ++i) {
    EXPECT_EQ(static_cast<uint32_t>(col_idx[room + i]), poison) << "col_idx written past the slack";
    uint32_t bits;
    std::memcpy(&bits, &values[room + i], sizeof bits);
    EXPECT_EQ(bits, poison) << "values written past the slack";
    EXPECT_EQ(static_cast<uint32_t>(row_ptr[static_cast<size_t>(rows) + 1 + i]), poison);
  }
  if (g.n < 0) return g;
  g.row_ptr.assign(row_ptr.begin(), row_ptr.begin() + rows + 1);
  g.col_idx.assign(col_idx.begin(), col_idx.begin() + g.n);
  g.value_bits.resize(static_cast<size_t>(g.n));
  if (g.n > 0) {  // memcpy's pointers must not be null, even for 0 bytes (UBSan)
    std::memcpy(g.value_bits.data(), values.data(), g.value_bits.size() * sizeof(float));
  }
  return g;
}

// `x` from float `offset` on (the twins' loads start wherever the tile does).
void ExpectSame(const KernelTable& table, const std::vector<float>& x, int32_t cols, int32_t rows,
                int64_t max_nnz, size_t offset = 0) {
  const float* in = x.data() + offset;
  const Gathered want = Run(&gather_nonzeros_f32, in, cols, rows, max_nnz, 0xA5A5A5A5u);
  const Gathered got = Run(table.gather_nonzeros_f32, in, cols, rows, max_nnz, 0x5A5A5A5Au);
  ASSERT_EQ(got.n, want.n) << table.name << " cols " << cols << " rows " << rows << " max_nnz " << max_nnz;
  EXPECT_EQ(got.row_ptr, want.row_ptr) << table.name << " cols " << cols;
  EXPECT_EQ(got.col_idx, want.col_idx) << table.name << " cols " << cols;
  EXPECT_EQ(got.value_bits, want.value_bits) << table.name << " cols " << cols;
}

int64_t CountNonZeros(const std::vector<float>& x) {
  int64_t n = 0;
  for (float v : x) n += v != 0.0f ? 1 : 0;
  return n;
}

TEST_P(GatherSimdTest, EveryWidthAndDensity) {
  ASSERT_NE(table()->gather_nonzeros_f32, nullptr);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (int32_t cols : {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 1433}) {
    for (double density : {0.0, 0.013, 0.1, 0.5, 1.0}) {
      const int32_t rows = cols < 64 ? 37 : 9;
      std::bernoulli_distribution keep(density);
      std::vector<float> x(static_cast<size_t>(rows) * cols, 0.0f);
      for (float& v : x) {
        if (keep(rng)) v = value(rng);
      }
      const int64_t nnz = CountNonZeros(x);
      ExpectSame(*table(), x, cols, rows, static_cast<int64_t>(rows) * cols);  // room for everything
      ExpectSame(*table(), x, cols, rows, nnz);                                // exactly enough: succeeds
      if (nnz > 0) ExpectSame(*table(), x, cols, rows, nnz - 1);               // one short: -1
      ExpectSame(*table(), x, cols, rows, 0);
    }
  }
}

TEST_P(GatherSimdTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  uint32_t payload = 0x7FC01234u, neg_nan_bits = 0xFFFFFFFFu, subnormal_bits = 1u;
  float nan, neg_nan, subnormal;
  std::memcpy(&nan, &payload, sizeof nan);
  std::memcpy(&neg_nan, &neg_nan_bits, sizeof neg_nan);
  std::memcpy(&subnormal, &subnormal_bits, sizeof subnormal);
  const std::vector<float> kinds = {0.0f, -0.0f, nan, neg_nan, inf, -inf, subnormal, -subnormal, 1.0f};
  for (int32_t cols : {1, 8, 13, 16, 19, 40}) {
    const int32_t rows = 7;
    std::vector<float> x(static_cast<size_t>(rows) * cols);
    for (size_t i = 0; i < x.size(); ++i) x[i] = kinds[(i * 7 + i / 3) % kinds.size()];
    const int64_t nnz = CountNonZeros(x);
    ExpectSame(*table(), x, cols, rows, nnz);
    ExpectSame(*table(), x, cols, rows, nnz / 2);
  }
}

TEST_P(GatherSimdTest, ZeroRowsAndEmptyRows) {
  std::vector<float> x(3 * 20, 0.0f);
  x[2 * 20 + 19] = 2.5f;  // only the last row's last element
  ExpectSame(*table(), x, 20, 3, 60);
  ExpectSame(*table(), x, 20, 0, 60);  // no rows: row_ptr[0] = 0 only
}

// Rows of every kind in one tile: empty, full, only the first / only the last column, both, sparse; the
// rows' boundaries fall anywhere inside the twins' blocks, and the tile starts at every float alignment.
TEST_P(GatherSimdTest, RowBoundariesInsideBlocks) {
  std::mt19937 rng(11);
  std::bernoulli_distribution sparse(0.03);
  for (int32_t cols : {1, 3, 5, 31, 33, 47, 63, 64, 65, 95, 96, 97, 129, 191, 257}) {
    const int32_t rows = 23;
    std::vector<float> x(static_cast<size_t>(rows) * cols + 16, 0.0f);
    for (int32_t r = 0; r < rows; ++r) {
      float* row = x.data() + 16 + static_cast<size_t>(r) * cols;  // rows start at float 16 for the offsets
      switch (r % 6) {
        case 0:
          break;  // empty
        case 1:
          for (int32_t k = 0; k < cols; ++k) row[k] = static_cast<float>(k + 1);
          break;
        case 2:
          row[0] = -1.5f;
          break;
        case 3:
          row[cols - 1] = 2.5f;
          break;
        case 4:
          row[0] = 3.0f;
          row[cols - 1] = -0.25f;
          break;
        default:
          for (int32_t k = 0; k < cols; ++k) row[k] = sparse(rng) ? 0.5f + static_cast<float>(k) : 0.0f;
          break;
      }
    }
    // The same tile copied to start at float 16 - shift: every alignment of the loads.
    for (size_t shift = 0; shift < 16; ++shift) {
      std::vector<float> moved(x.size(), 7.0f);  // non-zeros around the tile must not be gathered
      std::copy(x.begin() + 16, x.end(), moved.begin() + static_cast<std::ptrdiff_t>(16 - shift));
      std::fill(moved.begin() + static_cast<std::ptrdiff_t>(16 - shift + static_cast<size_t>(rows) * cols),
                moved.end(), 9.0f);
      const int64_t nnz = CountNonZeros(std::vector<float>(x.begin() + 16, x.end()));
      ExpectSame(*table(), moved, cols, rows, nnz, 16 - shift);
      ExpectSame(*table(), moved, cols, rows, nnz - 1, 16 - shift);
      ExpectSame(*table(), moved, cols, rows, nnz / 3, 16 - shift);
    }
  }
}

// The limit crossed in a block wholly inside a row (the twins' fast path) and in a row's boundary block.
TEST_P(GatherSimdTest, LimitInsideAndAtTheEndOfARow) {
  const int32_t cols = 300, rows = 4;
  std::vector<float> x(static_cast<size_t>(rows) * cols, 0.0f);
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t k = 5; k < cols; k += 37)
      x[static_cast<size_t>(r) * cols + k] = 1.0f + static_cast<float>(k);
    x[static_cast<size_t>(r) * cols + cols - 1] = -2.0f;
  }
  const int64_t nnz = CountNonZeros(x);
  for (int64_t limit = 0; limit <= nnz + 1; ++limit) ExpectSame(*table(), x, cols, rows, limit);
}

TEST_P(GatherSimdTest, NoColumnsOrNoRows) {
  const std::vector<float> x(4, 1.0f);
  ExpectSame(*table(), x, 0, 5, 10);  // rows of no floats: every row_ptr entry 0
  ExpectSame(*table(), x, 4, 0, 10);
}

INSTANTIATE_TEST_SUITE_P(Isas, GatherSimdTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

TEST(GatherReference, GathersExactlyTheNonZerosInOrder) {
  const std::vector<float> x = {0.0f, 1.5f, -0.0f, -2.0f, 0.0f, 0.0f, 3.0f, 0.0f};
  std::vector<int32_t> row_ptr(3), col_idx(3 + kGatherSlack);
  std::vector<float> values(3 + kGatherSlack);
  ASSERT_EQ(gather_nonzeros_f32(x.data(), 4, 2, 3, row_ptr.data(), col_idx.data(), values.data()), 3);
  EXPECT_EQ(row_ptr, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(std::vector<int32_t>(col_idx.begin(), col_idx.begin() + 3), (std::vector<int32_t>{1, 3, 2}));
  EXPECT_EQ(std::vector<float>(values.begin(), values.begin() + 3), (std::vector<float>{1.5f, -2.0f, 3.0f}));
  EXPECT_EQ(gather_nonzeros_f32(x.data(), 4, 2, 2, row_ptr.data(), col_idx.data(), values.data()), -1);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
