// The SIMD dense() twins against the reference, byte for byte: every input x weight x output width (and
// the extra input's), widths that are not multiples of the vector steps, int4 weight rows starting
// mid-byte, extreme zero points, biases, shifts up to 62, fused ReLU, saturation, the worst-case accumulator
// at the maximum width, 1 to 100 rows and random row splits; each over the plain weights and over operands
// packed once by the table's dense_pack (where the ISA packs).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernel_test_util.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::QMatrix;
using testutil::QWeightMatrix;
using testutil::Rng;

/// One input of a dense (the main one or SAGE's extra one) with its weights, bias and rescale.
struct DenseOperand {
  int32_t cols = 16;
  int bits = 8;
  int weight_bits = 8;
  int32_t zero_point = 0;
  bool bias = true;
  /// Weights and features at the extremes (|x - zx| = 255, w = -128 / -8) instead of random values.
  bool extreme = false;
  /// When > 0, every channel's shift (else random), and the last channel's when last_shift > 0.
  int32_t shift = 0;
  int32_t last_shift = 0;
};

/// TwinDense(table).rows(9).main({...}).extra({...}).out(33, 4, -3).relu(true).seed(5).check()
class TwinDense {
 public:
  explicit TwinDense(const KernelTable* table) : table_(table) {}
  TwinDense& rows(int32_t value) {
    rows_ = value;
    return *this;
  }
  TwinDense& main(const DenseOperand& op) {
    main_ = op;
    return *this;
  }
  TwinDense& extra(const DenseOperand& op) {
    extra_ = op;
    has_extra_ = true;
    return *this;
  }
  TwinDense& out(int32_t cols, int bits, int32_t zero_point) {
    out_cols_ = cols;
    out_bits_ = bits;
    zo_ = zero_point;
    return *this;
  }
  TwinDense& relu(bool value) {
    relu_ = value;
    return *this;
  }
  TwinDense& seed(uint64_t value) {
    seed_ = value;
    return *this;
  }

  ::testing::AssertionResult check() const {
    Rng rng(seed_);
    Built main_op = build(main_, rng), extra_op = build(extra_, rng);
    const DenseExtraInput extra{extra_op.x->cview(), extra_.cols, extra_op.w->view(),
                                extra_.bias ? extra_op.bias.data() : nullptr, extra_op.rq.view()};
    const DenseExtraInput* extra_ptr = has_extra_ ? &extra : nullptr;
    const int32_t* bias = main_.bias ? main_op.bias.data() : nullptr;
    QMatrix expected(rows_, out_cols_, out_bits_, zo_), whole(rows_, out_cols_, out_bits_, zo_),
        split(rows_, out_cols_, out_bits_, zo_);
    expected.poison(0xEE);
    whole.poison(0x11);
    split.poison(0x77);
    dense(main_op.x->cview(), main_.cols, main_op.w->view(), bias, main_op.rq.view(), extra_ptr, relu_,
          expected.view(), out_cols_, 0, rows_);
    table_->dense(main_op.x->cview(), main_.cols, main_op.w->view(), bias, main_op.rq.view(), extra_ptr,
                  relu_, whole.view(), out_cols_, 0, rows_);
    for (const auto& chunk : testutil::random_split(0, rows_, rng)) {
      table_->dense(main_op.x->cview(), main_.cols, main_op.w->view(), bias, main_op.rq.view(), extra_ptr,
                    relu_, split.view(), out_cols_, chunk.first, chunk.second);
    }
    ::testing::AssertionResult result = simdtest::same_rows(expected, whole, rows_);
    if (result) result = simdtest::same_rows(expected, split, rows_);
    if (result) result = check_packed(main_op, extra_op, bias, expected, rng);
    if (!result) {
      result << " [" << table_->name << " rows " << rows_ << " in " << main_.cols << "x" << main_.bits
             << "b w" << main_.weight_bits << "b zx " << main_.zero_point << " out " << out_cols_ << "x"
             << out_bits_ << "b zo " << zo_ << " extra " << (has_extra_ ? extra_.cols : -1) << " relu "
             << relu_ << " seed " << seed_ << "]";
    }
    return result;
  }

 private:
  struct Built {
    std::unique_ptr<QMatrix> x;
    std::unique_ptr<QWeightMatrix> w;
    std::vector<int32_t> bias;
    testutil::ChannelRescaleStore rq;
  };

  /// Memory for a packed operand, 16-byte aligned as the runtime guarantees, and deliberately NOT 64-byte
  /// aligned; filled with garbage first so that a byte dense_pack forgets to write shows.
  struct PackedBuffer {
    std::vector<uint8_t> storage;
    void* data = nullptr;
    void allocate(size_t bytes) {
      storage.assign(bytes + 128, 0xA5);
      const uintptr_t base = reinterpret_cast<uintptr_t>(storage.data());
      data = storage.data() + ((64 - base % 64) % 64 + 16);
    }
  };

  /// The same call over operands packed once by the table (whole range and random row splits); skipped when
  /// the table runs from the plain weights.
  ::testing::AssertionResult check_packed(const Built& main_op, const Built& extra_op, const int32_t* bias,
                                          const QMatrix& expected, Rng& rng) const {
    const size_t main_bytes = table_->dense_packed_bytes(main_.cols, out_cols_, main_.weight_bits);
    const size_t extra_bytes = table_->dense_packed_bytes(extra_.cols, out_cols_, extra_.weight_bits);
    if (main_bytes > dense_packed_bytes_max(main_.cols, out_cols_, main_.weight_bits) ||
        extra_bytes > dense_packed_bytes_max(extra_.cols, out_cols_, extra_.weight_bits)) {
      return ::testing::AssertionFailure() << "dense_packed_bytes_max is not the maximum";
    }
    if (main_bytes == 0) return ::testing::AssertionSuccess();
    PackedBuffer main_packed, extra_packed;
    main_packed.allocate(main_bytes);
    extra_packed.allocate(extra_bytes);
    table_->dense_pack(main_op.w->view(), main_.cols, out_cols_, bias, main_op.rq.view(), main_packed.data);
    QWeights main_w = main_op.w->view();
    main_w.packed = main_packed.data;
    const int32_t* extra_bias = extra_.bias ? extra_op.bias.data() : nullptr;
    QWeights extra_w = extra_op.w->view();
    if (has_extra_) {
      table_->dense_pack(extra_w, extra_.cols, out_cols_, extra_bias, extra_op.rq.view(), extra_packed.data);
      extra_w.packed = extra_packed.data;
    }
    const DenseExtraInput extra{extra_op.x->cview(), extra_.cols, extra_w, extra_bias, extra_op.rq.view()};
    const DenseExtraInput* extra_ptr = has_extra_ ? &extra : nullptr;
    QMatrix whole(rows_, out_cols_, out_bits_, zo_), split(rows_, out_cols_, out_bits_, zo_);
    whole.poison(0x33);
    split.poison(0x55);
    table_->dense(main_op.x->cview(), main_.cols, main_w, bias, main_op.rq.view(), extra_ptr, relu_,
                  whole.view(), out_cols_, 0, rows_);
    for (const auto& chunk : testutil::random_split(0, rows_, rng)) {
      table_->dense(main_op.x->cview(), main_.cols, main_w, bias, main_op.rq.view(), extra_ptr, relu_,
                    split.view(), out_cols_, chunk.first, chunk.second);
    }
    ::testing::AssertionResult result = simdtest::same_rows(expected, whole, rows_);
    if (result) result = simdtest::same_rows(expected, split, rows_);
    if (!result) result << " (packed operands)";
    return result;
  }

  Built build(const DenseOperand& op, Rng& rng) const {
    Built b;
    b.x = std::make_unique<QMatrix>(rows_, op.cols, op.bits, op.zero_point);
    b.w = std::make_unique<QWeightMatrix>(out_cols_, op.cols, op.weight_bits);
    if (op.extreme) {
      b.x->fill(testutil::qmax_of(op.bits));
      for (int32_t c = 0; c < out_cols_; ++c) {
        for (int32_t k = 0; k < op.cols; ++k) b.w->set(c, k, testutil::qmin_of(op.weight_bits));
      }
    } else {
      b.x->fill_random(rng);
      b.w->fill_random(rng);
    }
    const int32_t bias_limit = (1 << 30) - 1;
    for (int32_t c = 0; c < out_cols_; ++c) {
      b.bias.push_back(op.extreme ? (c % 2 == 0 ? bias_limit : -bias_limit)
                                  : static_cast<int32_t>(rng.uniform_int(-bias_limit, bias_limit) >>
                                                         rng.uniform_int(0, 20)));
      // Any multiplier and any Dense shift, 1 to 62.
      b.rq.multiplier.push_back(
          static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1)));
      const int32_t random_shift =
          static_cast<int32_t>(rng.chance(0.1) ? rng.uniform_int(1, 62) : rng.uniform_int(30, 50));
      const int32_t fixed_shift = op.last_shift > 0 && c == out_cols_ - 1 ? op.last_shift : op.shift;
      b.rq.shift.push_back(fixed_shift > 0 ? fixed_shift : random_shift);
    }
    return b;
  }

  const KernelTable* table_;
  int32_t rows_ = 5;
  DenseOperand main_, extra_;
  bool has_extra_ = false;
  int32_t out_cols_ = 8;
  int out_bits_ = 8;
  int32_t zo_ = 0;
  bool relu_ = false;
  uint64_t seed_ = 1;
};

class DenseSimdTest : public simdtest::TwinTest {};

int32_t random_zero_point(Rng& rng, int bits) {
  return static_cast<int32_t>(
      rng.pick(std::vector<int64_t>{testutil::qmin_of(bits), testutil::qmax_of(bits),
                                    rng.uniform_int(testutil::qmin_of(bits), testutil::qmax_of(bits))}));
}

TEST_P(DenseSimdTest, AllWidthsAndBits) {
  Rng rng(800 + static_cast<int>(GetParam()));
  uint64_t seed = 1;
  for (int in_bits : {8, 4}) {
    for (int weight_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (int32_t in_cols : {1, 3, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129}) {
          for (int32_t out_cols : {1, 5, 32, 33, 70}) {
            DenseOperand main{in_cols,         in_bits, weight_bits, random_zero_point(rng, in_bits),
                              rng.chance(0.7), false};
            ASSERT_TRUE(TwinDense(table())
                            .rows(static_cast<int32_t>(rng.pick(std::vector<int64_t>{1, 3, 4, 5, 9})))
                            .main(main)
                            .out(out_cols, out_bits, random_zero_point(rng, out_bits))
                            .relu(rng.chance(0.5))
                            .seed(seed++)
                            .check());
          }
        }
      }
    }
  }
}

TEST_P(DenseSimdTest, ExtraInputOfAnyWidth) {
  // SAGEConv's root term: a second input whose bits, width and weights differ from the main one.
  Rng rng(900);
  uint64_t seed = 50;
  for (int main_bits : {8, 4}) {
    for (int extra_bits : {8, 4}) {
      for (int main_w : {8, 4}) {
        for (int extra_w : {8, 4}) {
          DenseOperand main{static_cast<int32_t>(rng.uniform_int(1, 150)),
                            main_bits,
                            main_w,
                            random_zero_point(rng, main_bits),
                            rng.chance(0.5),
                            false};
          DenseOperand extra{static_cast<int32_t>(rng.uniform_int(1, 150)),
                             extra_bits,
                             extra_w,
                             random_zero_point(rng, extra_bits),
                             rng.chance(0.5),
                             false};
          for (int out_bits : {8, 4}) {
            ASSERT_TRUE(TwinDense(table())
                            .rows(11)
                            .main(main)
                            .extra(extra)
                            .out(static_cast<int32_t>(rng.uniform_int(1, 80)), out_bits,
                                 random_zero_point(rng, out_bits))
                            .relu(rng.chance(0.5))
                            .seed(seed++)
                            .check());
          }
        }
      }
    }
  }
}

TEST_P(DenseSimdTest, Int4WeightRowsStartMidByte) {
  // Odd in_cols: every other weight row starts in a high nibble; the last row's final byte is half used.
  uint64_t seed = 70;
  for (int32_t in_cols : {1, 3, 17, 63, 65, 129, 1433}) {
    for (int in_bits : {8, 4}) {
      DenseOperand main{in_cols, in_bits, 4, -3, true, false};
      ASSERT_TRUE(TwinDense(table()).rows(6).main(main).out(7, 8, 0).seed(seed++).check());
    }
  }
}

TEST_P(DenseSimdTest, WorstCaseAccumulatorAtMaximumWidth) {
  // 32768 inputs with x - zx = 255 and w = -128, plus |bias| = 2^30 - 1: the accumulator bound of
  // docs/quantization.md, reached in both signs (the VNNI correction term wraps in 32 bits on the way).
  for (int weight_bits : {8, 4}) {
    DenseOperand main{32768, 8, weight_bits, -128, true, true};
    ASSERT_TRUE(TwinDense(table()).rows(2).main(main).out(2, 8, 0).seed(3).check());
    DenseOperand int4_main{32767, 4, weight_bits, -8, true, true};
    ASSERT_TRUE(TwinDense(table()).rows(3).main(int4_main).out(3, 4, 1).seed(4).check());
  }
}

TEST_P(DenseSimdTest, EmptyShapes) {
  DenseOperand no_inputs{0, 8, 8, 5, true, false};
  ASSERT_TRUE(TwinDense(table()).rows(3).main(no_inputs).out(4, 8, 1).check());
  DenseOperand some{9, 4, 4, 1, true, false};
  ASSERT_TRUE(TwinDense(table()).rows(0).main(some).out(4, 4, 0).check());
  ASSERT_TRUE(TwinDense(table()).rows(3).main(some).out(0, 8, 0).check());
}

TEST_P(DenseSimdTest, CoraShapedLayer) {
  Rng rng(1000);
  for (int in_bits : {8, 4}) {
    for (int weight_bits : {8, 4}) {
      DenseOperand main{1433, in_bits, weight_bits, random_zero_point(rng, in_bits), true, false};
      ASSERT_TRUE(TwinDense(table()).rows(13).main(main).out(64, 8, -7).relu(true).seed(11).check());
    }
  }
}

TEST_P(DenseSimdTest, ManyRowsAndOneRow) {
  Rng rng(1100);
  uint64_t seed = 90;
  for (int32_t rows : {1, 2, 7, 8, 9, 16, 17, 18, 100}) {
    for (int weight_bits : {8, 4}) {
      DenseOperand main{static_cast<int32_t>(rng.uniform_int(1, 140)),
                        rng.chance(0.5) ? 8 : 4,
                        weight_bits,
                        -3,
                        true,
                        false};
      ASSERT_TRUE(TwinDense(table()).rows(rows).main(main).out(64, 8, -2).relu(true).seed(seed++).check());
      ASSERT_TRUE(TwinDense(table()).rows(rows).main(main).out(17, 4, 1).seed(seed++).check());
    }
  }
}

TEST_P(DenseSimdTest, SaturatesBothWays) {
  // Extreme features and weights with tiny shifts: every output clamps at qmin or qmax (or zo with ReLU).
  uint64_t seed = 120;
  for (int bits : {8, 4}) {
    for (int32_t out_cols : {3, 16, 33}) {
      DenseOperand main{37, bits, bits, bits == 8 ? -128 : -8, true, true};
      ASSERT_TRUE(TwinDense(table()).rows(5).main(main).out(out_cols, bits, 0).seed(seed++).check());
      ASSERT_TRUE(
          TwinDense(table()).rows(5).main(main).out(out_cols, bits, 2).relu(true).seed(seed++).check());
    }
  }
}

TEST_P(DenseSimdTest, OutputZeroPointFoldedUpToShift54) {
  // The packed twins add the output zero point into the rounding constants when no channel's shift
  // exceeds 54 (dense-body.h, kDenseFoldShiftMax), where zo * 2^shift plus the largest product still
  // fits int64; one channel at 55 takes the unfolded path. Extreme zero points, the worst-case accumulator
  // (extreme operands) and random ones, 16 / 32 (int4: one 16-byte row store) / 33 channels, with and
  // without an extra input.
  uint64_t seed = 500;
  for (int bits : {8, 4}) {
    for (int32_t last_shift : {0, 55, 62}) {
      for (int32_t shift : {1, 31, 54}) {
        for (bool extreme : {true, false}) {
          for (int32_t out_cols : {16, 32, 33}) {
            for (int32_t zo : {testutil::qmin_of(bits), testutil::qmax_of(bits)}) {
              DenseOperand main{29, bits, bits, extreme ? testutil::qmin_of(bits) : 1, true, extreme};
              main.shift = shift;
              main.last_shift = last_shift;
              DenseOperand extra{9, bits, bits, 0, true, false};
              extra.shift = shift;
              ASSERT_TRUE(TwinDense(table()).rows(7).main(main).out(out_cols, bits, zo).seed(seed++).check())
                  << "bits " << bits << " shift " << shift << " last " << last_shift << " cols " << out_cols;
              ASSERT_TRUE(TwinDense(table())
                              .rows(6)
                              .main(main)
                              .extra(extra)
                              .out(out_cols, bits, zo)
                              .relu(true)
                              .seed(seed++)
                              .check())
                  << "bits " << bits << " shift " << shift << " last " << last_shift << " cols " << out_cols;
            }
          }
        }
      }
    }
  }
}

TEST_P(DenseSimdTest, PackedOperandOfAnotherCallIsNotTrusted) {
  // A packed operand is only used for the very weights, bias and rescale it was made from: with another
  // bias array (same shape) the twin must fall back to the plain weights and still match the reference.
  const KernelTable* t = table();
  const int32_t rows = 9, in_cols = 40, out_cols = 24;
  Rng rng(1200);
  QMatrix x(rows, in_cols, 8, 3);
  x.fill_random(rng);
  QWeightMatrix w(out_cols, in_cols, 4);
  w.fill_random(rng);
  std::vector<int32_t> bias_a(out_cols), bias_b(out_cols);
  testutil::ChannelRescaleStore rq;
  for (int32_t c = 0; c < out_cols; ++c) {
    bias_a[static_cast<size_t>(c)] = static_cast<int32_t>(rng.uniform_int(-5000, 5000));
    bias_b[static_cast<size_t>(c)] = static_cast<int32_t>(rng.uniform_int(-5000, 5000));
    rq.multiplier.push_back(1 << 30);
    rq.shift.push_back(38);
  }
  const size_t bytes = t->dense_packed_bytes(in_cols, out_cols, 4);
  if (bytes == 0) GTEST_SKIP() << t->name << " runs dense from the plain weights";
  std::vector<uint64_t> packed(bytes / 8 + 2);
  t->dense_pack(w.view(), in_cols, out_cols, bias_a.data(), rq.view(), packed.data());
  QWeights with_packed = w.view();
  with_packed.packed = packed.data();
  QMatrix expected(rows, out_cols, 8, 1), got(rows, out_cols, 8, 1);
  dense(x.cview(), in_cols, w.view(), bias_b.data(), rq.view(), nullptr, false, expected.view(), out_cols, 0,
        rows);
  t->dense(x.cview(), in_cols, with_packed, bias_b.data(), rq.view(), nullptr, false, got.view(), out_cols, 0,
           rows);
  ASSERT_TRUE(simdtest::same_rows(expected, got, rows));
}

INSTANTIATE_TEST_SUITE_P(Isas, DenseSimdTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
