// Unit tests of numerics.h: every helper against its oracle, at the boundaries that matter (exact halves,
// the extremes of each range, the limits the runtime enforces).
#include "qgnn/kernels/numerics.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "oracle.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Rng;

TEST(Numerics, RangesAndRowBytes) {
  EXPECT_EQ(qmin(8), -128);
  EXPECT_EQ(qmax(8), 127);
  EXPECT_EQ(qmin(4), -8);
  EXPECT_EQ(qmax(4), 7);
  EXPECT_EQ(row_bytes(0, 4), 0u);
  EXPECT_EQ(row_bytes(1, 4), 1u);
  EXPECT_EQ(row_bytes(2, 4), 1u);
  EXPECT_EQ(row_bytes(3, 4), 2u);
  EXPECT_EQ(row_bytes(129, 4), 65u);
  EXPECT_EQ(row_bytes(129, 8), 129u);
  EXPECT_EQ(row_bytes(32768, 4), 16384u);
}

TEST(Numerics, RescaleRoundsExactHalvesTowardPlusInfinity) {
  // acc * multiplier / 2^shift lands exactly on a half.
  EXPECT_EQ(rescale(1, 1, 1), 1);    //  0.5 ->  1
  EXPECT_EQ(rescale(-1, 1, 1), 0);   // -0.5 ->  0
  EXPECT_EQ(rescale(3, 1, 1), 2);    //  1.5 ->  2
  EXPECT_EQ(rescale(-3, 1, 1), -1);  // -1.5 -> -1
  EXPECT_EQ(rescale(5, 1, 1), 3);    //  2.5 ->  3
  EXPECT_EQ(rescale(-5, 1, 1), -2);  // -2.5 -> -2
  EXPECT_EQ(rescale(6, 1, 2), 2);    //  1.5 ->  2
  EXPECT_EQ(rescale(-6, 1, 2), -1);  // -1.5 -> -1
  EXPECT_EQ(rescale(-7, 1, 2), -2);  // -1.75 -> -2
  EXPECT_EQ(rescale(-5, 1, 2), -1);  // -1.25 -> -1
  // Multiplier 2^30 with shift 31 is a factor 1/2.
  EXPECT_EQ(rescale(3, int64_t{1} << 30, 31), 2);
  EXPECT_EQ(rescale(-3, int64_t{1} << 30, 31), -1);
  EXPECT_EQ(rescale(0, (int64_t{1} << 32) - 1, 62), 0);
}

TEST(Numerics, RescaleMatchesOracleAtDocumentedExtremes) {
  Rng rng(101);
  for (int i = 0; i < 200000; ++i) {
    const int shift = static_cast<int>(rng.uniform_int(1, 62));
    const int64_t multiplier = rng.uniform_int(0, (int64_t{1} << 32) - 1);
    // |acc * multiplier| < 2^62.
    const int64_t acc_limit = multiplier == 0 ? (int64_t{1} << 40) : ((int64_t{1} << 62) - 1) / multiplier;
    const int64_t acc = rng.chance(0.5) ? rng.uniform_int(-acc_limit, acc_limit) : rng.uniform_int(-300, 300);
    ASSERT_EQ(rescale(acc, multiplier, shift), oracle::rescale(acc, multiplier, shift))
        << "acc=" << acc << " multiplier=" << multiplier << " shift=" << shift;
  }
}

TEST(Numerics, RoundingShiftRight) {
  EXPECT_EQ(rounding_shift_right(1, 1), 1);
  EXPECT_EQ(rounding_shift_right(-1, 1), 0);
  EXPECT_EQ(rounding_shift_right(32768, 16), 1);                     //  0.5
  EXPECT_EQ(rounding_shift_right(-32768, 16), 0);                    // -0.5
  EXPECT_EQ(rounding_shift_right(-32769, 16), -1);                   // just below -0.5
  EXPECT_EQ(rounding_shift_right(-3 * (int64_t{1} << 29), 30), -1);  // -1.5
  Rng rng(102);
  for (int i = 0; i < 100000; ++i) {
    const int shift = static_cast<int>(rng.uniform_int(1, 40));
    const int64_t v = rng.uniform_int(-(int64_t{1} << 61), int64_t{1} << 61);
    ASSERT_EQ(rounding_shift_right(v, shift), oracle::round_half_up(v, oracle::int128{1} << shift));
  }
}

TEST(Numerics, ClampSaturates) {
  EXPECT_EQ(clamp_i64(INT64_MIN, -128, 127), -128);
  EXPECT_EQ(clamp_i64(INT64_MAX, -128, 127), 127);
  EXPECT_EQ(clamp_i64(-129, -128, 127), -128);
  EXPECT_EQ(clamp_i64(128, -128, 127), 127);
  EXPECT_EQ(clamp_i64(-8, -8, 7), -8);
  EXPECT_EQ(clamp_i64(int64_t{1} << 40, -8, 7), 7);
}

TEST(Numerics, MeanRescaleMatchesFormula) {
  Rng rng(103);
  std::vector<uint32_t> counts;
  for (uint32_t c = 1; c <= 300; ++c) counts.push_back(c);
  for (int e = 0; e <= 22; ++e) {
    for (int delta = -1; delta <= 1; ++delta) {
      const int64_t c = (int64_t{1} << e) + delta;
      if (c >= 1 && c <= (int64_t{1} << 22)) counts.push_back(static_cast<uint32_t>(c));
    }
  }
  for (int i = 0; i < 2000; ++i)
    counts.push_back(static_cast<uint32_t>(rng.uniform_int(1, int64_t{1} << 22)));

  const std::vector<int32_t> multipliers = {1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1, INT32_MAX, 3,
                                            1};
  for (uint32_t count : counts) {
    for (int32_t multiplier : multipliers) {
      for (int shift : {1, 17, 31, 40}) {
        const MeanRescale got = mean_rescale(multiplier, shift, count);
        const oracle::MeanRescale want = oracle::mean_rescale(multiplier, shift, count);
        ASSERT_EQ(got.multiplier, want.multiplier) << "count=" << count << " m=" << multiplier;
        ASSERT_EQ(got.shift, want.shift) << "count=" << count;
        // The documented ranges: multiplier' < 2^32 and shift' <= 62.
        ASSERT_LT(got.multiplier, int64_t{1} << 32);
        ASSERT_LE(got.shift, 62);
      }
    }
  }
}

TEST(Numerics, MeanRescaleOfPowerOfTwoCountIsExactShift) {
  // count = 2^e: the mean is the sum shifted by e more bits, multiplier unchanged.
  for (int e = 0; e <= 22; ++e) {
    const MeanRescale r = mean_rescale(1234567890, 20, uint32_t{1} << e);
    EXPECT_EQ(r.multiplier, 1234567890);
    EXPECT_EQ(r.shift, 20 + e);
  }
}

TEST(Numerics, MeanRescaleApproximatesTheMean) {
  // rescale(sum, mean_rescale(m, s, n)) is within one step of round(sum / n * m / 2^s).
  Rng rng(104);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t count = static_cast<uint32_t>(rng.uniform_int(1, 5000));
    const int64_t sum =
        rng.uniform_int(-255 * static_cast<int64_t>(count), 255 * static_cast<int64_t>(count));
    const int32_t multiplier = static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, INT32_MAX));
    const int shift = static_cast<int>(rng.uniform_int(25, 33));
    const MeanRescale r = mean_rescale(multiplier, shift, count);
    const long double exact = static_cast<long double>(sum) / count * multiplier / std::ldexp(1.0L, shift);
    ASSERT_LE(std::fabs(static_cast<long double>(rescale(sum, r.multiplier, r.shift)) - exact), 1.0L);
  }
}

TEST(Numerics, GcnNormQ15MatchesLongDoubleForEveryDegreeUpToAMillion) {
  for (uint32_t d = 1; d <= 1000000; ++d) {
    ASSERT_EQ(gcn_norm_q15(d), oracle::gcn_norm_q15(d)) << "d=" << d;
  }
  EXPECT_EQ(gcn_norm_q15(1), 32768);
  EXPECT_EQ(gcn_norm_q15(4), 16384);
  EXPECT_EQ(gcn_norm_q15(2), 23170);  // 23170.475
}

TEST(Numerics, GcnNormQ15AtHugeDegreesAndRoundingBoundaries) {
  std::vector<uint64_t> degrees = {(1u << 22),   (1u << 22) + 1, (1u << 30),
                                   (1ull << 31), 0xFFFFFFFEull,  0xFFFFFFFFull};
  // Where round(2^15 / sqrt(d)) changes from n to n - 1: d = floor(2^32 / (2n - 1)^2) and the next one.
  for (uint64_t n = 1; n <= 32768; n += (n < 64 ? 1 : 37)) {
    const uint64_t odd = 2 * n - 1;
    const uint64_t boundary = (uint64_t{1} << 32) / (odd * odd);
    for (uint64_t d : {boundary - 1, boundary, boundary + 1}) {
      if (d >= 1 && d <= 0xFFFFFFFFull) degrees.push_back(d);
    }
  }
  for (uint64_t d : degrees) {
    ASSERT_EQ(gcn_norm_q15(static_cast<uint32_t>(d)), oracle::gcn_norm_q15(d)) << "d=" << d;
  }
  // 2^15 / sqrt(2^32 - 1) = 0.50000000006: rounds to 1, never 0.
  EXPECT_EQ(gcn_norm_q15(0xFFFFFFFFu), 1);
}

TEST(Numerics, Int4RoundTripEveryValueAtBothNibbles) {
  for (int32_t value = -8; value <= 7; ++value) {
    for (int32_t neighbour = -8; neighbour <= 7; ++neighbour) {
      uint8_t bytes[2] = {0xAB, 0xCD};
      store_int4(bytes, 2, value);
      store_int4(bytes, 3, neighbour);
      EXPECT_EQ(load_int4(bytes, 2), value);
      EXPECT_EQ(load_int4(bytes, 3), neighbour);
      // Low nibble first.
      EXPECT_EQ(bytes[1], static_cast<uint8_t>((value & 0xF) | ((neighbour & 0xF) << 4)));
      EXPECT_EQ(bytes[0], 0xAB) << "a store touched the previous byte";
      // Overwriting one nibble keeps the other.
      store_int4(bytes, 3, value);
      EXPECT_EQ(load_int4(bytes, 2), value);
      store_int4(bytes, 2, neighbour);
      EXPECT_EQ(load_int4(bytes, 3), value);
    }
  }
  // Sign extension of raw nibbles.
  const uint8_t raw[1] = {0x8F};
  EXPECT_EQ(load_int4(raw, 0), -1);
  EXPECT_EQ(load_int4(raw, 1), -8);
}

TEST(Numerics, QuantizeFloatRoundsHalvesAwayFromZero) {
  EXPECT_EQ(quantize_float(0.5f, 1.0f, 0, 8), 1);
  EXPECT_EQ(quantize_float(-0.5f, 1.0f, 0, 8), -1);
  EXPECT_EQ(quantize_float(1.5f, 1.0f, 0, 8), 2);
  EXPECT_EQ(quantize_float(-1.5f, 1.0f, 0, 8), -2);
  EXPECT_EQ(quantize_float(2.5f, 1.0f, 0, 8), 3);
  EXPECT_EQ(quantize_float(-2.5f, 1.0f, 0, 8), -3);
  EXPECT_EQ(quantize_float(0.25f, 0.5f, 3, 8), 4);  // 0.5 + 3
  EXPECT_EQ(quantize_float(-0.25f, 0.5f, 3, 8), 2);
  EXPECT_EQ(quantize_float(0.49999997f, 1.0f, 0, 8), 0);  // largest float below 1/2
  EXPECT_EQ(quantize_float(-0.0f, 1.0f, 0, 8), 0);
  EXPECT_EQ(quantize_float(1e-45f, 1.0f, 0, 8), 0);  // denormal
  EXPECT_EQ(quantize_float(3.5f, 1.0f, 0, 4), 4);
  EXPECT_EQ(quantize_float(-3.5f, 1.0f, 0, 4), -4);
}

TEST(Numerics, QuantizeFloatSaturates) {
  EXPECT_EQ(quantize_float(127.5f, 1.0f, 0, 8), 127);
  EXPECT_EQ(quantize_float(-128.5f, 1.0f, 0, 8), -128);
  EXPECT_EQ(quantize_float(0.0f, 1.0f, 127, 8), 127);
  EXPECT_EQ(quantize_float(1.0f, 1.0f, 127, 8), 127);
  EXPECT_EQ(quantize_float(-1.0f, 1.0f, -128, 8), -128);
  EXPECT_EQ(quantize_float(7.5f, 1.0f, 0, 4), 7);
  EXPECT_EQ(quantize_float(-8.5f, 1.0f, 0, 4), -8);
  EXPECT_EQ(quantize_float(1.0f, 1.0f, 7, 4), 7);
  // Huge values and quotients that overflow to infinity must not reach a float -> int conversion.
  EXPECT_EQ(quantize_float(FLT_MAX, 1.0f, 0, 8), 127);
  EXPECT_EQ(quantize_float(-FLT_MAX, 1.0f, 0, 8), -128);
  EXPECT_EQ(quantize_float(1e30f, 1e-30f, -128, 8), 127);
  EXPECT_EQ(quantize_float(-1e30f, 1e-30f, 127, 8), -128);
  EXPECT_EQ(quantize_float(3e9f, 1.0f, -8, 4), 7);
  EXPECT_EQ(quantize_float(-3e9f, 1.0f, 7, 4), -8);
}

TEST(Numerics, QuantizeFloatMatchesOracle) {
  Rng rng(105);
  for (int i = 0; i < 200000; ++i) {
    const int bits = rng.chance(0.5) ? 8 : 4;
    const int32_t zero_point =
        static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(bits), testutil::qmax_of(bits)));
    // Power-of-two scales make (n + 1/2) * scale an exact half after the division.
    const double mantissa = rng.chance(0.5) ? 1.0 : rng.uniform_real(1.0, 2.0);
    const float scale = static_cast<float>(std::ldexp(mantissa, static_cast<int>(rng.uniform_int(-12, 4))));
    float x;
    if (rng.chance(0.3)) {
      // Exact halves of the step: (n + 1/2) * scale, exact in binary32 for a power-of-two scale; half the
      // time the neighbouring float toward zero, which must not round away.
      x = (static_cast<float>(rng.uniform_int(-200, 200)) + 0.5f) * scale;
      if (rng.chance(0.5)) x = std::nextafter(x, 0.0f);
    } else {
      x = static_cast<float>(rng.uniform_real(-300.0, 300.0)) * scale;
    }
    ASSERT_EQ(quantize_float(x, scale, zero_point, bits), oracle::quantize(x, scale, zero_point, bits))
        << "x=" << x << " scale=" << scale << " zp=" << zero_point << " bits=" << bits;
  }
}

TEST(Numerics, DequantizeIsExactProduct) {
  for (int32_t q = -128; q <= 127; ++q) {
    for (int32_t zero_point : {-128, -3, 0, 127}) {
      const float scale = 0.0123f;
      const float want = static_cast<float>(static_cast<double>(scale) * (q - zero_point));
      EXPECT_EQ(dequantize(q, scale, zero_point), want);
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
