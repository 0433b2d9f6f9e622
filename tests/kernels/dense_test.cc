// dense() against an int128 oracle for every input x weight x output bit width, with and without bias,
// ReLU and the SAGE-style extra input (itself in every bit combination), on awkward widths, extreme
// zero points, saturating rescales, the accumulator limits and arbitrary row splits.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "kernel_test_util.h"
#include "oracle.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::ChannelRescaleStore;
using testutil::QMatrix;
using testutil::QWeightMatrix;
using testutil::Rng;

/// One input of a dense update with its owning storage: x, W, optional bias, per-channel rescale.
struct DenseOperand {
  QMatrix x;
  QWeightMatrix w;
  std::vector<int32_t> bias;  // empty: no bias
  ChannelRescaleStore rq;

  const int32_t* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }

  /// round(rescale(bias[c] + sum_k (x[row][k] - zx) * w[c][k])) in int128.
  int64_t rescaled(int32_t row, int32_t c) const {
    oracle::int128 acc = bias.empty() ? 0 : bias[static_cast<size_t>(c)];
    for (int32_t k = 0; k < x.cols(); ++k)
      acc += oracle::int128{x.get(row, k) - x.zero_point()} * w.get(c, k);
    return oracle::rescale(static_cast<int64_t>(acc), rq.multiplier[static_cast<size_t>(c)],
                           rq.shift[static_cast<size_t>(c)]);
  }
};

DenseOperand make_operand(Rng& rng, int32_t rows, int32_t in_cols, int32_t out_cols, int in_bits,
                          int weight_bits, int32_t zero_point, bool with_bias) {
  DenseOperand op{QMatrix(rows, in_cols, in_bits, zero_point),
                  QWeightMatrix(out_cols, in_cols, weight_bits),
                  {},
                  testutil::random_channel_rescale(rng, out_cols)};
  op.x.fill_random(rng);
  op.w.fill_random(rng);
  if (with_bias) {
    for (int32_t c = 0; c < out_cols; ++c)
      op.bias.push_back(static_cast<int32_t>(rng.uniform_int(-(1 << 20), 1 << 20)));
  }
  return op;
}

struct DenseCase {
  DenseOperand main;
  std::unique_ptr<DenseOperand> extra;
  bool relu;
  int32_t out_cols;
  int out_bits;
  int32_t out_zero_point;

  int32_t expected(int32_t row, int32_t c) const {
    oracle::int128 value = out_zero_point + main.rescaled(row, c);
    if (extra) value += extra->rescaled(row, c);
    const int32_t lo =
        relu ? std::max(testutil::qmin_of(out_bits), out_zero_point) : testutil::qmin_of(out_bits);
    const int32_t saturated = oracle::saturate(value, out_bits);
    return std::max(saturated, lo);
  }

  void run(QMatrix& out, int32_t begin, int32_t end) const {
    DenseExtraInput extra_input{};
    if (extra) {
      extra_input = DenseExtraInput{extra->x.cview(), extra->x.cols(), extra->w.view(), extra->bias_or_null(),
                                    extra->rq.view()};
    }
    dense(main.x.cview(), main.x.cols(), main.w.view(), main.bias_or_null(), main.rq.view(),
          extra ? &extra_input : nullptr, relu, out.view(), out_cols, begin, end);
  }
};

void check_dense(const std::string& label, const DenseCase& dc, Rng& rng) {
  const int32_t rows = dc.main.x.rows();
  QMatrix whole(rows, dc.out_cols, dc.out_bits, dc.out_zero_point);
  QMatrix split(rows, dc.out_cols, dc.out_bits, dc.out_zero_point);
  whole.poison(0xDD);
  split.poison(0x22);
  dc.run(whole, 0, rows);
  for (const auto& chunk : testutil::random_split(0, rows, rng)) dc.run(split, chunk.first, chunk.second);
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t c = 0; c < dc.out_cols; ++c) {
      ASSERT_EQ(whole.get(r, c), dc.expected(r, c)) << label << " row=" << r << " channel=" << c;
    }
  }
  ASSERT_TRUE(whole.pad_nibbles_are_zero()) << label;
  ASSERT_EQ(whole.row_range_bytes(0, rows), split.row_range_bytes(0, rows))
      << label << ": depends on the split";
}

using DenseParam = std::tuple<int, int, int>;  // input bits, weight bits, output bits

class DenseTest : public ::testing::TestWithParam<DenseParam> {};

TEST_P(DenseTest, MatchesOracle) {
  const auto [in_bits, weight_bits, out_bits] = GetParam();
  Rng rng(500 + in_bits * 100 + weight_bits * 10 + out_bits);
  int config = 0;
  for (int32_t in_cols : testutil::awkward_widths()) {
    for (int32_t out_cols : {1, 3, 17}) {
      for (int repeat = 0; repeat < 3; ++repeat, ++config) {
        const bool with_bias = config % 2 == 0;
        const bool relu = (config / 2) % 2 == 0;
        const int extra_kind = (config / 4) % 5;  // 0: none; 1-4: every (input, weight) bit pair
        const int32_t rows = std::vector<int32_t>{0, 1, 2, 9}[static_cast<size_t>(config % 4)];
        const int32_t in_zp = std::vector<int32_t>{testutil::qmin_of(in_bits), testutil::qmax_of(in_bits),
                                                   1}[static_cast<size_t>(config % 3)];
        const int32_t out_zp = std::vector<int32_t>{testutil::qmax_of(out_bits), testutil::qmin_of(out_bits),
                                                    -2}[static_cast<size_t>((config / 3) % 3)];

        DenseCase dc{make_operand(rng, rows, in_cols, out_cols, in_bits, weight_bits, in_zp, with_bias),
                     nullptr,
                     relu,
                     out_cols,
                     out_bits,
                     out_zp};
        if (extra_kind != 0) {
          const int extra_in_bits = extra_kind <= 2 ? 8 : 4;
          const int extra_weight_bits = extra_kind % 2 == 1 ? 8 : 4;
          const int32_t extra_cols = rng.pick(testutil::awkward_widths());
          const int32_t extra_zp = static_cast<int32_t>(
              rng.uniform_int(testutil::qmin_of(extra_in_bits), testutil::qmax_of(extra_in_bits)));
          dc.extra = std::make_unique<DenseOperand>(make_operand(
              rng, rows, extra_cols, out_cols, extra_in_bits, extra_weight_bits, extra_zp, !with_bias));
        }
        check_dense("in_cols=" + std::to_string(in_cols) + " out_cols=" + std::to_string(out_cols) +
                        " rows=" + std::to_string(rows) + " bias=" + std::to_string(with_bias) +
                        " relu=" + std::to_string(relu) + " extra=" + std::to_string(extra_kind),
                    dc, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

std::string bits_name(const ::testing::TestParamInfo<DenseParam>& info) {
  return "In" + std::to_string(std::get<0>(info.param)) + "_W" + std::to_string(std::get<1>(info.param)) +
         "_Out" + std::to_string(std::get<2>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllBits, DenseTest,
                         ::testing::Combine(::testing::Values(8, 4), ::testing::Values(8, 4),
                                            ::testing::Values(8, 4)),
                         bits_name);

TEST(Dense, ReluClampsAtTheZeroPoint) {
  // One input, weight 1, factor 1: out = zo + (x - zx), then ReLU keeps it >= zo.
  QMatrix x(1, 1, 8, 0);
  QWeightMatrix w(1, 1, 8);
  w.set(0, 0, 1);
  const int32_t multiplier = 1 << 30, shift = 30;
  for (int32_t value : {-100, -1, 0, 1, 100}) {
    x.set(0, 0, value);
    for (int32_t zo : {-128, -20, 0, 20, 127}) {
      QMatrix out(1, 1, 8, zo);
      dense(x.cview(), 1, w.view(), nullptr, ChannelRescale{&multiplier, &shift}, nullptr, /*relu=*/true,
            out.view(), 1, 0, 1);
      EXPECT_EQ(out.get(0, 0), std::min(127, std::max(zo, zo + value))) << "value=" << value << " zo=" << zo;
    }
  }
}

TEST(Dense, Int4WeightRowsStartMidByte) {
  // in_cols = 3: row 1 of the weight matrix starts in the high nibble of byte 1.
  QMatrix x(1, 3, 8, 0);
  x.set(0, 0, 1), x.set(0, 1, 10), x.set(0, 2, 100);
  QWeightMatrix w(2, 3, 4);
  const int32_t values[2][3] = {{1, -2, 3}, {-7, 7, -1}};
  for (int c = 0; c < 2; ++c) {
    for (int k = 0; k < 3; ++k) w.set(c, k, values[c][k]);
  }
  const int32_t multipliers[2] = {1 << 30, 1 << 30}, shifts[2] = {30, 31};
  QMatrix out(1, 2, 8, 0);
  dense(x.cview(), 3, w.view(), nullptr, ChannelRescale{multipliers, shifts}, nullptr, false, out.view(), 2,
        0, 1);
  EXPECT_EQ(out.get(0, 0), 127);                  // 1 - 20 + 300 = 281 saturates
  EXPECT_EQ(out.get(0, 1), (-7 + 70 - 100) / 2);  // -37 / 2 = -18.5 rounds up to -18
}

TEST(Dense, AccumulatorLimitsAtMaximumWidth) {
  // 32768 inputs with |x - zx| = 255, |w| = 127 (and 128) and |bias| = 2^30 - 1: the int32 accumulator
  // reaches +-2,143,289,343 < 2^31 without overflowing (UBSan would flag it).
  constexpr int32_t kInCols = 32768;
  for (bool positive : {true, false}) {
    for (int weight_bits : {8, 4}) {
      QMatrix x(2, kInCols, 8, positive ? -128 : 127);
      x.fill(positive ? 127 : -128);
      QWeightMatrix w(4, kInCols, weight_bits);
      const int32_t wmax = weight_bits == 8 ? 127 : 7, wmin = weight_bits == 8 ? -128 : -8;
      const int32_t channel_weights[4] = {wmax, -wmax, wmin, 0};
      for (int32_t c = 0; c < 4; ++c) {
        for (int32_t k = 0; k < kInCols; ++k) w.set(c, k, channel_weights[c]);
      }
      const std::vector<int32_t> bias = {(1 << 30) - 1, -((1 << 30) - 1), (1 << 30) - 1, -((1 << 30) - 1)};
      const std::vector<int32_t> multipliers = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
      // Shift 62, the largest a Dense may use, on the largest accumulators: |acc * m| < 2^62 still holds.
      const std::vector<int32_t> shifts = {62, 62, 40, 1};
      DenseOperand op{x, w, bias, ChannelRescaleStore{multipliers, shifts}};
      QMatrix out(2, 4, 8, 0);
      dense(x.cview(), kInCols, w.view(), bias.data(), op.rq.view(), nullptr, false, out.view(), 4, 0, 2);
      for (int32_t r = 0; r < 2; ++r) {
        for (int32_t c = 0; c < 4; ++c) {
          EXPECT_EQ(out.get(r, c), oracle::saturate(op.rescaled(r, c), 8))
              << "positive=" << positive << " weight_bits=" << weight_bits << " channel=" << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
