// quantize_rows twins (the model input's float -> int8 / int4) against the reference, byte for byte: exact
// .5 quotients and their float neighbours, huge and infinite values saturating, NaN rows, odd widths (int4
// pad nibbles), every zero point, and row splits; NaN of any sign or payload in any lane, a strided sample of
// all 2^32 float patterns, every float within 64 ulps of each half, hostile per-column scales.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using QuantizeSimdTest = simdtest::TwinTest;

float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// Runs the reference and the twin (all rows, then row by row in reverse order) into buffers poisoned
/// with different bytes and compares every byte.
void expect_same(const KernelTable& table, const std::vector<float>& x, int32_t rows, int32_t cols,
                 float scale, int bits, int32_t zero_point, const float* column_scales = nullptr) {
  const size_t bytes = row_bytes(static_cast<size_t>(cols), bits) * static_cast<size_t>(rows) + 1;
  std::vector<uint8_t> expected(bytes, 0xA5), whole(bytes, 0x5A), split(bytes, 0x5A);
  quantize_rows(x.data(), cols, scale, column_scales, QActivation{expected.data(), bits, zero_point}, 0,
                rows);
  table.quantize_rows(x.data(), cols, scale, column_scales, QActivation{whole.data(), bits, zero_point}, 0,
                      rows);
  for (int32_t r = rows - 1; r >= 0; --r) {
    table.quantize_rows(x.data(), cols, scale, column_scales, QActivation{split.data(), bits, zero_point}, r,
                        r + 1);
  }
  expected.back() = whole.back() = split.back() = 0;  // the byte past the rows is nobody's
  const size_t stride = row_bytes(static_cast<size_t>(cols), bits);
  for (size_t i = 0; i < bytes; ++i) {
    ASSERT_EQ(expected[i], whole[i]) << table.name << " bits " << bits << " zp " << zero_point << " cols "
                                     << cols << " scale " << scale << ": row " << i / stride << " byte "
                                     << i % stride;
    ASSERT_EQ(expected[i], split[i]) << table.name << " split, byte " << i;
  }
}

TEST_P(QuantizeSimdTest, RandomValuesOfEveryWidth) {
  testutil::Rng rng(11);
  for (int bits : {8, 4}) {
    for (int32_t cols : {0, 1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1433}) {
      const int32_t rows = 5;
      std::vector<float> x(static_cast<size_t>(rows) * cols);
      for (float& v : x) v = static_cast<float>(rng.uniform_real(-3.0, 3.0));
      for (float scale : {1.0f / 127.0f, 0.013f, 0.5f, 3.0f}) {
        for (int32_t zp : {qmin(bits), -1, 0, 3, qmax(bits)})
          expect_same(*table(), x, rows, cols, scale, bits, zp);
      }
    }
  }
}

TEST_P(QuantizeSimdTest, ExactHalvesAndTheirNeighbours) {
  // x / scale lands exactly on k + 0.5 (round half away from zero) and one float either side.
  std::vector<float> x;
  const float scale = 0.25f;  // a power of two: x / scale is exact, so the quotient is exactly the half
  for (int k = -140; k <= 140; ++k) {
    const float half = (static_cast<float>(k) + 0.5f) * scale;
    x.push_back(half);
    x.push_back(std::nextafter(half, 1.0e9f));
    x.push_back(std::nextafter(half, -1.0e9f));
    x.push_back(-half);
  }
  x.push_back(0.0f);
  x.push_back(-0.0f);
  x.push_back(0.49999997f * scale);
  x.push_back(-0.49999997f * scale);
  const int32_t cols = static_cast<int32_t>(x.size());
  for (int bits : {8, 4}) {
    for (int32_t zp : {qmin(bits), 0, qmax(bits)}) {
      expect_same(*table(), x, 1, cols, scale, bits, zp);
      expect_same(*table(), x, 1, cols, 0.1f, bits, zp);  // inexact quotients near the halves
    }
  }
}

TEST_P(QuantizeSimdTest, HugeAndInfiniteValuesSaturate) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {1.0e6f,   -1.0e6f,   1.0e7f,    -1.0e7f,    3.0e38f, -3.0e38f,
                                inf,      -inf,      999999.5f, -999999.5f, 2.5e9f,  -2.5e9f,
                                1.0e-38f, -1.0e-45f, 127.5f,    -128.5f,    7.5f};
  for (int bits : {8, 4}) {
    for (float scale : {1.0f, 1.0e-30f, 1.0e30f}) {
      for (int32_t zp : {qmin(bits), 0, qmax(bits)}) {
        expect_same(*table(), x, 1, static_cast<int32_t>(x.size()), scale, bits, zp);
      }
    }
  }
}

TEST_P(QuantizeSimdTest, NaNRowsMatchTheReference) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const int32_t cols = 37;
  std::vector<float> x(static_cast<size_t>(cols) * 3, 0.75f);
  x[5] = nan;           // row 0, first vector
  x[cols + 36] = -nan;  // row 1, partial last vector
  for (int bits : {8, 4}) {
    for (int32_t zp : {qmin(bits), -1, 0, qmax(bits)}) expect_same(*table(), x, 3, cols, 0.1f, bits, zp);
  }
}

// Short int4 rows are quantized several per vector on AVX-512 (quantize_rows_s4_packed): every short
// width (odd ones with pad nibbles), row counts that leave a partial last group, saturating values, a NaN
// in one row of a group, and row ranges starting mid-group.
TEST_P(QuantizeSimdTest, ShortRowsSeveralPerVector) {
  testutil::Rng rng(23);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int32_t cols = 1; cols <= 17; ++cols) {
    for (int32_t rows : {1, 2, 3, 5, 8, 13}) {
      std::vector<float> x(static_cast<size_t>(rows) * cols);
      for (float& v : x) v = static_cast<float>(rng.uniform_real(-12.0, 12.0));
      x[0] = 1.0e9f;  // saturates high
      if (x.size() > 1) x[x.size() - 1] = -1.0e9f;
      for (int32_t zp : {-8, -1, 0, 7}) {
        expect_same(*table(), x, rows, cols, 1.0f, 4, zp);
        expect_same(*table(), x, rows, cols, 0.37f, 4, zp);
      }
      if (rows >= 3) {
        std::vector<float> with_nan = x;
        with_nan[static_cast<size_t>(cols) + static_cast<size_t>(cols - 1)] = nan;  // row 1's last element
        expect_same(*table(), with_nan, rows, cols, 0.5f, 4, 0);
      }
      // Row ranges starting at an odd row: groups fall differently.
      for (int32_t begin = 1; begin < rows; begin += 2) {
        const size_t stride = row_bytes(static_cast<size_t>(cols), 4);
        std::vector<uint8_t> expected(stride * rows, 0xA5), got(stride * rows, 0xA5);
        quantize_rows(x.data(), cols, 0.37f, nullptr, QActivation{expected.data(), 4, 1}, begin, rows);
        table()->quantize_rows(x.data(), cols, 0.37f, nullptr, QActivation{got.data(), 4, 1}, begin, rows);
        ASSERT_EQ(expected, got) << table()->name << " cols " << cols << " rows " << rows << " begin "
                                 << begin;
      }
    }
  }
}

// Per-column input scales: every width (partial last vectors, whose pad lanes must not divide 0 by 0), the
// short int4 rows several per vector (the scales spread like the rows), exact .5 quotients per column,
// saturation and NaN rows.
TEST_P(QuantizeSimdTest, ColumnScalesOfEveryWidth) {
  testutil::Rng rng(31);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int bits : {8, 4}) {
    for (int32_t cols : {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1433}) {
      std::vector<float> scales(static_cast<size_t>(cols));
      for (float& s : scales) s = static_cast<float>(rng.uniform_real(0.001, 600.0));
      scales[0] = 1.0f;  // a one-hot column beside raw attributes
      for (int32_t rows : {1, 3, 8}) {
        std::vector<float> x(static_cast<size_t>(rows) * cols);
        for (size_t i = 0; i < x.size(); ++i) {
          const float s = scales[i % static_cast<size_t>(cols)];
          // Exact halves k + 0.5 in every third element, the rest random, some saturating.
          x[i] = i % 3 == 0 ? (static_cast<float>(static_cast<int>(i % 11)) - 5.5f) * s
                            : static_cast<float>(rng.uniform_real(-20.0, 20.0)) * s;
        }
        if (rows >= 3) x[static_cast<size_t>(cols)] = nan;  // row 1
        for (int32_t zp : {qmin(bits), 0, qmax(bits)})
          expect_same(*table(), x, rows, cols, 123.0f, bits, zp, scales.data());
      }
    }
  }
}

// The twins handle NaN in the lane (no row falls back to the reference any more): NaN of either sign and
// any payload next to ordinary, half and saturating values, at every position of a vector, every zero point.
TEST_P(QuantizeSimdTest, NaNLanesGiveTheZeroPointInPlace) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nans[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                        std::numeric_limits<float>::signaling_NaN(), float_from_bits(0x7FC12345u),
                        float_from_bits(0xFF800001u)};
  const int32_t cols = 41;  // two full AVX-512 vectors and a partial one
  for (int bits : {8, 4}) {
    for (int32_t position = 0; position < cols; position += 3) {
      std::vector<float> x(static_cast<size_t>(cols));
      for (int32_t k = 0; k < cols; ++k) x[k] = 0.3f * static_cast<float>(k - 20);
      x[0] = inf;
      x[cols - 1] = -inf;
      x[static_cast<size_t>(position)] = nans[position % 5];
      for (int32_t zp : {qmin(bits), -1, 0, 3, qmax(bits)}) expect_same(*table(), x, 1, cols, 0.6f, bits, zp);
    }
  }
}

// A sample of every float bit pattern (a stride coprime with 2^32 covers signs, exponents, subnormals,
// infinities and NaNs) against several scales, including ones that make quotients overflow to infinity or
// underflow to zero, and every zero point of int4.
TEST_P(QuantizeSimdTest, StridedSampleOfAllFloats) {
  const int32_t cols = 1433;
  const int32_t rows = 64;
  std::vector<float> x(static_cast<size_t>(rows) * cols);
  uint32_t bits_pattern = 0x12345u;
  for (float& v : x) {
    v = float_from_bits(bits_pattern);
    bits_pattern += 46337u;  // odd: the sequence visits every pattern before repeating
  }
  for (float scale : {1.0f / 127.0f, 0.37f, 1.0e-30f, 3.0e30f, 1.0e-45f}) {
    for (int32_t zp : {-128, -5, 0, 127}) expect_same(*table(), x, rows, cols, scale, 8, zp);
  }
  for (int32_t zp = -8; zp <= 7; ++zp) expect_same(*table(), x, rows, cols, 0.01f, 4, zp);
}

// Dense enumeration around every half of the int8 range: for scale 1 the quotient is the float itself, so
// every float within 64 ulps of k + 0.5 for k in [-300, 300] (the saturation edges included) is compared.
TEST_P(QuantizeSimdTest, EveryFloatNearEveryHalf) {
  std::vector<float> x;
  for (int k = -300; k <= 300; ++k) {
    float v = static_cast<float>(k) + 0.5f;
    for (int i = 0; i < 64; ++i) v = std::nextafter(v, -1.0e9f);
    for (int i = 0; i < 129; ++i, v = std::nextafter(v, 1.0e9f)) x.push_back(v);
  }
  const int32_t cols = 129 * 3;
  const int32_t rows = static_cast<int32_t>(x.size()) / cols;
  for (int bits : {8, 4}) {
    for (int32_t zp : {qmin(bits), -1, 0, qmax(bits)}) {
      expect_same(*table(), x, rows, cols, 1.0f, bits, zp);
      expect_same(*table(), x, rows, cols, 3.0f, bits, zp);  // inexact quotients
    }
  }
}

// Per-column scales the model would never hold but a caller of the kernel might: zero (x / 0 is an
// infinity or, for x = 0, NaN), negative, NaN, infinite and subnormal.
TEST_P(QuantizeSimdTest, HostileColumnScales) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> kinds = {0.0f, -0.0f, -0.25f, nan, inf, -inf, 1.0e-45f, 1.0e-40f, 0.5f};
  const int32_t cols = 37;
  std::vector<float> scales(static_cast<size_t>(cols));
  for (int32_t k = 0; k < cols; ++k) scales[k] = kinds[static_cast<size_t>(k) % kinds.size()];
  std::vector<float> x(static_cast<size_t>(cols) * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 4 == 0 ? 0.0f : static_cast<float>(i) * 0.125f - 9.0f;
  x[3] = inf;
  x[cols + 5] = nan;
  for (int bits : {8, 4}) {
    for (int32_t zp : {qmin(bits), 0, qmax(bits)})
      expect_same(*table(), x, 4, cols, 1.0f, bits, zp, scales.data());
  }
}

// A zero point outside the output's range (the runtime never passes one) still gives the reference's bytes.
TEST_P(QuantizeSimdTest, ZeroPointOutsideTheRange) {
  std::vector<float> x(static_cast<size_t>(3) * 19);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.7f - 20.0f;
  for (int bits : {8, 4}) {
    for (int32_t zp : {qmin(bits) - 1, qmax(bits) + 1, -1000000, 2000000000}) {
      expect_same(*table(), x, 3, 19, 0.5f, bits, zp);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantizeSimdTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

TEST(QuantizeTable, ReferenceTableUsesTheReferenceKernel) {
  EXPECT_EQ(kernels_for(Isa::kReference)->quantize_rows, &quantize_rows);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
