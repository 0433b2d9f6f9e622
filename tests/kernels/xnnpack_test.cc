// XNNPACK backends (kernels/xnnpack) against the reference kernels:
//  * DenseF32 (f32 fully connected) agrees with kernels::dense_f32 within the float path's rounding bound
//    (n + 4) * 2^-23 * sum|terms| (docs/quantization.md "The float (FP32) path"): both round each of the n
//    products and n additions (XNNPACK fuses them, FMA, and reassociates across lanes), so each result is
//    within n * 2^-24 * sum|terms| of the exact sum; the +4 covers the bias, ReLU and the final comparison.
//  * GemmQ8 (qs8 / qc8) requantizes with a float scale (x86: round to nearest even), not with qgnn's
//    multiplier / shift (round half up): it is exactly the float-requantized oracle on x86 and within one
//    LSB of the reference dense, which is why it stays out of the bit-exact default path.
// Every test is skipped, with the reason, when this build or CPU has no XNNPACK.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"
#include "qgnn/xnnpack/xnnpack.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Rng;

#define SKIP_WITHOUT_XNNPACK()                                                 \
  do {                                                                         \
    if (!xnnpack::available()) {                                               \
      GTEST_SKIP() << "XNNPACK is not available in this build or on this CPU"; \
    }                                                                          \
  } while (0)

std::vector<float> RandomFloats(Rng& rng, size_t n, double lo, double hi) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform_real(lo, hi));
  return v;
}

TEST(XnnpackDenseF32, WithinRoundingBoundOfReference) {
  SKIP_WITHOUT_XNNPACK();
  Rng rng(0xF32);
  int cases = 0;
  for (int32_t k : {1, 3, 16, 17, 64, 129, 300}) {
    for (int32_t n : {1, 7, 16, 33, 64}) {
      for (bool relu : {false, true}) {
        for (bool with_bias : {false, true}) {
          const int32_t m = static_cast<int32_t>(rng.uniform_int(1, 40));
          // Inputs keep kExtraInputBytes of readable slack after the last row, as XNNPACK requires.
          std::vector<float> x =
              RandomFloats(rng, static_cast<size_t>(m) * k + xnnpack::kExtraInputBytes, -2, 2);
          const std::vector<float> w = RandomFloats(rng, static_cast<size_t>(n) * k, -1, 1);
          const std::vector<float> bias = RandomFloats(rng, static_cast<size_t>(n), -1, 1);
          const float* b = with_bias ? bias.data() : nullptr;
          std::vector<float> expected(static_cast<size_t>(m) * n), actual(expected.size(), NAN);
          dense_f32(x.data(), k, w.data(), b, nullptr, relu, expected.data(), n, 0, m);
          xnnpack::DenseF32 op;
          ASSERT_TRUE(op.Create(k, n, w.data(), b, relu));
          ASSERT_TRUE(op.Run(x.data(), actual.data(), static_cast<size_t>(m), nullptr));
          for (int32_t r = 0; r < m; ++r) {
            for (int32_t c = 0; c < n; ++c) {
              double magnitude = b != nullptr ? std::fabs(b[c]) : 0.0;
              for (int32_t i = 0; i < k; ++i) {
                magnitude += std::fabs(static_cast<double>(x[static_cast<size_t>(r) * k + i]) * w[c * k + i]);
              }
              const double bound = (k + 4) * std::ldexp(1.0, -23) * magnitude;
              const size_t at = static_cast<size_t>(r) * n + c;
              ASSERT_NEAR(actual[at], expected[at], bound)
                  << "K " << k << " N " << n << " row " << r << " col " << c;
              if (relu) {
                ASSERT_GE(actual[at], 0.0f);
              }
            }
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 7 * 5 * 4);
}

TEST(XnnpackDenseF32, RejectsBadShapesAndRunsEmptyBatches) {
  SKIP_WITHOUT_XNNPACK();
  const float w[4] = {1, 2, 3, 4};
  xnnpack::DenseF32 op;
  EXPECT_FALSE(op.Create(0, 2, w, nullptr, false));
  EXPECT_FALSE(op.Create(2, 2, nullptr, nullptr, false));
  EXPECT_FALSE(op.created());
  EXPECT_FALSE(op.Run(w, nullptr, 1, nullptr));  // no operator
  ASSERT_TRUE(op.Create(2, 2, w, nullptr, false));
  EXPECT_TRUE(op.Run(nullptr, nullptr, 0, nullptr));
}

// y = clamp(zo + round(acc * scale)): qgnn's fixed point (reference dense) against XNNPACK's float scale.
struct GemmCase {
  int32_t m, k, n;
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias;
  std::vector<float> w_scales;
  float in_scale = 0.02f, out_scale = 0.05f;
  int8_t in_zp = -3, out_zp = 4;
  std::vector<int32_t> multiplier, shift;

  GemmCase(Rng& rng, int32_t m_, int32_t k_, int32_t n_, bool per_channel) : m(m_), k(k_), n(n_) {
    x.resize(static_cast<size_t>(m) * k + xnnpack::kExtraInputBytes);
    for (int8_t& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
    w.resize(static_cast<size_t>(n) * k);
    for (int8_t& v : w) v = static_cast<int8_t>(rng.uniform_int(-127, 127));
    bias.resize(static_cast<size_t>(n));
    for (int32_t& v : bias) v = static_cast<int32_t>(rng.uniform_int(-5000, 5000));
    const float common = 0.5f / (127.0f * std::sqrt(static_cast<float>(k)));
    for (int32_t c = 0; c < n; ++c) {
      w_scales.push_back(per_channel ? static_cast<float>(common * rng.uniform_real(0.5, 2.0)) : common);
      // The reference's fixed point for the same real scale: multiplier in [2^30, 2^31), shift in [1, 62].
      int e = 0;
      const double mant = std::frexp(static_cast<double>(in_scale) * w_scales[c] / out_scale, &e);
      int64_t q = std::llround(mant * 2147483648.0);
      if (q == (int64_t{1} << 31)) {
        q >>= 1;
        ++e;
      }
      multiplier.push_back(static_cast<int32_t>(q));
      shift.push_back(31 - e);
    }
  }

  std::vector<int8_t> Reference(bool relu) const {
    std::vector<int8_t> out(static_cast<size_t>(m) * n);
    dense(QActivationConst{x.data(), 8, in_zp}, k, QWeights{w.data(), 8}, bias.data(),
          ChannelRescale{multiplier.data(), shift.data()}, nullptr, relu, QActivation{out.data(), 8, out_zp},
          n, 0, m);
    return out;
  }

  /// XNNPACK's x86 requantization: lrintf(float(acc) * (in_scale * w_scale / out_scale)) + zo, clamped.
  std::vector<int8_t> FloatOracle(bool relu) const {
    std::vector<int8_t> out(static_cast<size_t>(m) * n);
    for (int32_t r = 0; r < m; ++r) {
      for (int32_t c = 0; c < n; ++c) {
        int32_t acc = bias[c];
        for (int32_t i = 0; i < k; ++i) acc += (x[static_cast<size_t>(r) * k + i] - in_zp) * w[c * k + i];
        const float scale = in_scale * w_scales[c] / out_scale;
        const long v = std::lrintf(static_cast<float>(acc) * scale) + out_zp;
        out[static_cast<size_t>(r) * n + c] =
            static_cast<int8_t>(std::clamp<long>(v, relu ? out_zp : -128, 127));
      }
    }
    return out;
  }
};

void ExpectGemmClose(xnnpack::GemmQ8::Kind kind) {
  Rng rng(kind == xnnpack::GemmQ8::Kind::kPerChannel ? 0xC8 : 0x58);
  size_t total = 0, exact = 0, float_exact = 0;
  for (int32_t k : {1, 8, 17, 64, 256}) {
    for (int32_t n : {1, 5, 16, 64}) {
      for (bool relu : {false, true}) {
        const GemmCase g(rng, static_cast<int32_t>(rng.uniform_int(1, 50)), k, n,
                         kind == xnnpack::GemmQ8::Kind::kPerChannel);
        xnnpack::GemmQ8Params p;
        p.in_features = k;
        p.out_features = n;
        p.weights = g.w.data();
        p.weight_scales = g.w_scales.data();
        p.bias = g.bias.data();
        p.in_zero_point = g.in_zp;
        p.in_scale = g.in_scale;
        p.out_zero_point = g.out_zp;
        p.out_scale = g.out_scale;
        p.relu = relu;
        xnnpack::GemmQ8 op;
        ASSERT_TRUE(op.Create(kind, p));
        std::vector<int8_t> actual(static_cast<size_t>(g.m) * n);
        ASSERT_TRUE(op.Run(g.x.data(), actual.data(), static_cast<size_t>(g.m), nullptr));
        const std::vector<int8_t> reference = g.Reference(relu), oracle = g.FloatOracle(relu);
        for (size_t i = 0; i < actual.size(); ++i) {
          ASSERT_LE(std::abs(actual[i] - reference[i]), 1) << "K " << k << " N " << n << " output " << i;
          exact += actual[i] == reference[i];
          float_exact += actual[i] == oracle[i];
        }
        total += actual.size();
      }
    }
  }
#if defined(__x86_64__) || defined(_M_X64)
  EXPECT_EQ(float_exact, total) << "XNNPACK's x86 requantization is lrintf(acc * float scale) + zero point";
#endif
  std::printf("XNNPACK %s vs qgnn reference dense: %zu of %zu outputs identical (the others 1 LSB apart)\n",
              kind == xnnpack::GemmQ8::Kind::kPerChannel ? "qc8" : "qs8", exact, total);
  // A test that could fail: a handful of ties are expected to round differently, not a systematic offset.
  EXPECT_GT(exact, total * 99 / 100);
}

TEST(XnnpackGemmQ8, PerTensorQs8WithinOneLsbOfReference) {
  SKIP_WITHOUT_XNNPACK();
  ExpectGemmClose(xnnpack::GemmQ8::Kind::kPerTensor);
}

TEST(XnnpackGemmQ8, PerChannelQc8WithinOneLsbOfReference) {
  SKIP_WITHOUT_XNNPACK();
  ExpectGemmClose(xnnpack::GemmQ8::Kind::kPerChannel);
}

TEST(XnnpackGemmQ8, RejectsMissingWeights) {
  SKIP_WITHOUT_XNNPACK();
  xnnpack::GemmQ8Params p;
  p.in_features = 4;
  p.out_features = 4;
  xnnpack::GemmQ8 op;
  EXPECT_FALSE(op.Create(xnnpack::GemmQ8::Kind::kPerChannel, p));
  EXPECT_FALSE(op.created());
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
