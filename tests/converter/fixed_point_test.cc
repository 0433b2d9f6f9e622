// quantize_multiplier: accuracy, range (Dense shifts up to 62, aggregation / pooling up to 40), rejection of
// unrepresentable reals.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "qgnn/converter/model_builder.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace converter {
namespace {

double value_of(const std::pair<int32_t, int32_t>& q) {
  return std::ldexp(static_cast<double>(q.first), -q.second);
}

TEST(QuantizeMultiplier, MinimaMatchTheMaximumShifts) {
  EXPECT_EQ(kDenseRequantRealMin, std::ldexp(1.0, 30 - kDenseRequantShiftMax));
  EXPECT_EQ(kAggregationRequantRealMin, std::ldexp(1.0, 30 - kAggregationRequantShiftMax));
  EXPECT_EQ(kDenseRequantShiftMax, 62);
  EXPECT_EQ(kAggregationRequantShiftMax, 40);
}

TEST(QuantizeMultiplier, AccurateToHalfAnUlpOf31Bits) {
  std::mt19937 rng(21);
  for (int32_t max_shift : {kAggregationRequantShiftMax, kDenseRequantShiftMax}) {
    SCOPED_TRACE(max_shift);
    std::uniform_real_distribution<double> log2_real(30.0 - max_shift, 29.99);
    for (int i = 0; i < 20000; ++i) {
      const double real = std::exp2(log2_real(rng));
      const auto q = quantize_multiplier(real, max_shift);
      ASSERT_TRUE(q.ok()) << real << ": " << q.error;
      EXPECT_GE(q.value.first, int32_t{1} << 30);
      EXPECT_GE(q.value.second, 1);
      EXPECT_LE(q.value.second, max_shift);
      EXPECT_LE(std::fabs(value_of(q.value) - real) / real, std::ldexp(1.0, -31)) << real;
    }
  }
}

TEST(QuantizeMultiplier, ExactPowersOfTwoAndEdges) {
  for (int32_t max_shift : {kAggregationRequantShiftMax, kDenseRequantShiftMax}) {
    SCOPED_TRACE(max_shift);
    auto q = quantize_multiplier(1.0, max_shift);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 30));
    q = quantize_multiplier(0.5, max_shift);
    EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 31));
    // The smallest representable real: multiplier 2^30, the maximum shift.
    q = quantize_multiplier(std::ldexp(1.0, 30 - max_shift), max_shift);
    ASSERT_TRUE(q.ok()) << q.error;
    EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, max_shift));
    // Just below it, the mantissa rounds up to 2^31 and is renormalised onto the minimum.
    q = quantize_multiplier(std::ldexp(1.0 - std::ldexp(1.0, -40), 30 - max_shift), max_shift);
    ASSERT_TRUE(q.ok()) << q.error;
    EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, max_shift));
    // Just below 1.0: the same renormalisation.
    q = quantize_multiplier(std::nextafter(1.0, 0.0), max_shift);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 30));
    q = quantize_multiplier(std::ldexp(1.0, 30) * 0.999999, max_shift);
    ASSERT_TRUE(q.ok()) << q.error;
    EXPECT_EQ(q.value.second, 1);
  }
  // Between the two minima: a Dense factor, not an aggregation / pooling one.
  const double dense_only = std::ldexp(1.0, -11);  // shift 41
  ASSERT_TRUE(quantize_multiplier(dense_only, kDenseRequantShiftMax).ok());
  EXPECT_EQ(quantize_multiplier(dense_only, kDenseRequantShiftMax).value,
            std::make_pair(int32_t{1} << 30, 41));
  EXPECT_FALSE(quantize_multiplier(dense_only, kAggregationRequantShiftMax).ok());
  const auto q = quantize_multiplier(1e-4, kDenseRequantShiftMax);  // the int8 x int8 -> int4 example
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_EQ(q.value.second, 44);
}

TEST(QuantizeMultiplier, RescaleMatchesTheRealProduct) {
  // The kernels' rescale() with the returned pair approximates acc * real to within one unit.
  std::mt19937 rng(22);
  std::uniform_real_distribution<double> real_dist(0.001, 4.0);
  std::uniform_int_distribution<int32_t> acc_dist(-(1 << 24), 1 << 24);
  for (int i = 0; i < 10000; ++i) {
    const double real = real_dist(rng);
    const int32_t acc = acc_dist(rng);
    const auto q = quantize_multiplier(real, kAggregationRequantShiftMax);
    ASSERT_TRUE(q.ok());
    const int64_t out = kernels::rescale(acc, q.value.first, q.value.second);
    EXPECT_LE(std::fabs(static_cast<double>(out) - acc * real), 1.0) << acc << " * " << real;
  }
}

TEST(QuantizeMultiplier, SmallDenseFactorsOnFullInt32Accumulators) {
  // Dense factors in [2^-32, 2^-10) on any int32 accumulator: shifts 41..62, |acc * m| < 2^62, and the result
  // is within one unit of acc * real.
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> log2_real(-32.0, -10.0);
  std::uniform_int_distribution<int32_t> acc_dist(std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 10000; ++i) {
    const double real = std::exp2(log2_real(rng));
    const int32_t acc = i == 0 ? std::numeric_limits<int32_t>::min() : acc_dist(rng);
    const auto q = quantize_multiplier(real, kDenseRequantShiftMax);
    ASSERT_TRUE(q.ok()) << real << ": " << q.error;
    ASSERT_GT(q.value.second, kAggregationRequantShiftMax);
    const int64_t out = kernels::rescale(acc, q.value.first, q.value.second);
    EXPECT_LE(std::fabs(static_cast<double>(out) - acc * real), 1.0) << acc << " * " << real;
  }
}

TEST(QuantizeMultiplier, RejectsUnrepresentable) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int32_t max_shift : {kAggregationRequantShiftMax, kDenseRequantShiftMax}) {
    const double real_min = std::ldexp(1.0, 30 - max_shift);
    for (double bad : {0.0, -0.0, -1.0, nan, inf, -inf, std::ldexp(1.0, 30), 1e12, real_min * 0.99, 1e-12,
                       std::numeric_limits<double>::denorm_min()}) {
      const auto q = quantize_multiplier(bad, max_shift);
      EXPECT_FALSE(q.ok()) << bad << " with max shift " << max_shift;
      EXPECT_FALSE(q.error.empty());
    }
  }
  const auto below = quantize_multiplier(kDenseRequantRealMin * 0.99, kDenseRequantShiftMax);
  EXPECT_NE(below.error.find("below the representable minimum 2^-32"), std::string::npos) << below.error;
  const auto below_agg = quantize_multiplier(kAggregationRequantRealMin * 0.99, kAggregationRequantShiftMax);
  EXPECT_NE(below_agg.error.find("below the representable minimum 2^-10"), std::string::npos)
      << below_agg.error;
  // The maximum shift itself must be one rescale() accepts.
  EXPECT_FALSE(quantize_multiplier(1.0, 0).ok());
  EXPECT_FALSE(quantize_multiplier(1.0, 63).ok());
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
