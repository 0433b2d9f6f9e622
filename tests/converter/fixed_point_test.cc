// quantize_multiplier: accuracy, range, rejection of unrepresentable reals.
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

TEST(QuantizeMultiplier, AccurateToHalfAnUlpOf31Bits) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<double> log2_real(-10.0, 29.99);
  for (int i = 0; i < 20000; ++i) {
    const double real = std::exp2(log2_real(rng));
    const auto q = quantize_multiplier(real);
    ASSERT_TRUE(q.ok()) << real << ": " << q.error;
    EXPECT_GE(q.value.first, int32_t{1} << 30);
    EXPECT_GE(q.value.second, 1);
    EXPECT_LE(q.value.second, 40);
    EXPECT_LE(std::fabs(value_of(q.value) - real) / real, std::ldexp(1.0, -31)) << real;
  }
}

TEST(QuantizeMultiplier, ExactPowersOfTwoAndEdges) {
  auto q = quantize_multiplier(1.0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 30));
  q = quantize_multiplier(0.5);
  EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 31));
  q = quantize_multiplier(kRequantRealMin);  // 2^-10: multiplier 2^30, shift 40
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 40));
  // Just below 1.0: the mantissa rounds up to 2^31 and is renormalised.
  q = quantize_multiplier(std::nextafter(1.0, 0.0));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value, std::make_pair(int32_t{1} << 30, 30));
  q = quantize_multiplier(std::ldexp(1.0, 30) * 0.999999);
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_EQ(q.value.second, 1);
}

TEST(QuantizeMultiplier, RescaleMatchesTheRealProduct) {
  // The kernels' rescale() with the returned pair approximates acc * real to within one unit.
  std::mt19937 rng(22);
  std::uniform_real_distribution<double> real_dist(0.001, 4.0);
  std::uniform_int_distribution<int32_t> acc_dist(-(1 << 24), 1 << 24);
  for (int i = 0; i < 10000; ++i) {
    const double real = real_dist(rng);
    const int32_t acc = acc_dist(rng);
    const auto q = quantize_multiplier(real);
    ASSERT_TRUE(q.ok());
    const int64_t out = kernels::rescale(acc, q.value.first, q.value.second);
    EXPECT_LE(std::fabs(static_cast<double>(out) - acc * real), 1.0) << acc << " * " << real;
  }
}

TEST(QuantizeMultiplier, RejectsUnrepresentable) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {0.0, -0.0, -1.0, nan, inf, -inf, std::ldexp(1.0, 30), 1e12, kRequantRealMin * 0.99,
                     1e-12, std::numeric_limits<double>::denorm_min()}) {
    const auto q = quantize_multiplier(bad);
    EXPECT_FALSE(q.ok()) << bad;
    EXPECT_FALSE(q.error.empty());
  }
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
