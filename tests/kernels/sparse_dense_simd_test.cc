// The SIMD sparse_dense() twins against the reference, byte for byte: empty rows, rows of one non-zero and
// fully dense rows; 1 to 32768 (the cap) input columns and output widths around every vector and block size;
// int8 / int4 weights, inputs and outputs; one scale and per-column scales; saturating, tiny and exact
// half-step values; biases at +-(2^30 - 1); ReLU; zero points at qmin / qmax; whole ranges and random row
// splits, each over the plain weights (the exact fallback), over an operand packed by the table's
// sparse_dense_pack, and over a packed operand of OTHER weights (which the twin must not trust).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "simd_test_util.h"
#include "sparse_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::QMatrix;
using testutil::QWeightMatrix;
using testutil::Rng;
using testutil::SparseMatrix;
using testutil::SparseValues;

/// TwinSparseDense(table).rows(9).in(1433, 8, -128).weights(4).out(16, 8, 3).values(kHalfSteps).check()
class TwinSparseDense {
 public:
  explicit TwinSparseDense(const KernelTable* table) : table_(table) {}
  TwinSparseDense& rows(int32_t value) {
    rows_ = value;
    return *this;
  }
  /// Input columns, the input quantization's bits and zero point.
  TwinSparseDense& in(int32_t cols, int bits, int32_t zero_point) {
    in_cols_ = cols;
    in_bits_ = bits;
    zx_ = zero_point;
    return *this;
  }
  TwinSparseDense& weights(int bits) {
    weight_bits_ = bits;
    return *this;
  }
  TwinSparseDense& out(int32_t cols, int bits, int32_t zero_point) {
    out_cols_ = cols;
    out_bits_ = bits;
    zo_ = zero_point;
    return *this;
  }
  TwinSparseDense& density(double value) {
    density_ = value;
    return *this;
  }
  /// Some rows are fully dense (every column a non-zero).
  TwinSparseDense& dense_rows(bool value) {
    dense_rows_ = value;
    return *this;
  }
  TwinSparseDense& values(SparseValues value) {
    values_ = value;
    return *this;
  }
  TwinSparseDense& column_scales(bool value) {
    column_scales_ = value;
    return *this;
  }
  /// Weights at -128 / -8 and biases at +-(2^30 - 1): the accumulator's worst case.
  TwinSparseDense& extreme(bool value) {
    extreme_ = value;
    return *this;
  }
  TwinSparseDense& relu(bool value) {
    relu_ = value;
    return *this;
  }
  TwinSparseDense& seed(uint64_t value) {
    seed_ = value;
    return *this;
  }

  ::testing::AssertionResult check() const {
    Rng rng(seed_);
    const float scale = values_ == SparseValues::kHalfSteps ? 0.125f : 0.05f;
    const std::vector<float> scales =
        column_scales_ ? testutil::random_column_scales(in_cols_, values_, rng) : std::vector<float>{};
    const SparseMatrix x =
        testutil::random_sparse(rows_, in_cols_, density_, dense_rows_, values_, scales, scale, rng);
    const InputQuantization q{scale, column_scales_ ? scales.data() : nullptr, zx_, in_bits_};
    QWeightMatrix w(out_cols_, in_cols_, weight_bits_), other(out_cols_, in_cols_, weight_bits_);
    std::vector<int32_t> bias;
    testutil::ChannelRescaleStore rq;
    fill(w, bias, rq, rng);
    other.fill_random(rng);

    QMatrix expected(rows_, out_cols_, out_bits_, zo_);
    expected.poison(0xEE);
    sparse_dense(x.view(), in_cols_, q, w.view(), bias.data(), rq.view(), relu_, expected.view(), out_cols_,
                 0, rows_);

    ::testing::AssertionResult result = run_twin(x, q, w.view(), bias, rq, expected, rng, "plain weights");
    const size_t bytes = table_->sparse_dense_packed_bytes(in_cols_, out_cols_, weight_bits_);
    if (result && bytes > sparse_dense_packed_bytes_max(in_cols_, out_cols_, weight_bits_)) {
      result = ::testing::AssertionFailure() << "sparse_dense_packed_bytes_max is not the maximum";
    }
    if (result && bytes > 0) {
      PackedBuffer packed(bytes);
      table_->sparse_dense_pack(w.view(), in_cols_, out_cols_, packed.data);
      QWeights packed_w = w.view();
      packed_w.packed = packed.data;
      result = run_twin(x, q, packed_w, bias, rq, expected, rng, "packed operand");
      if (result) {
        // Memory packed from other weights of the same shape: the twin must see that and stay exact.
        PackedBuffer foreign(bytes);
        table_->sparse_dense_pack(other.view(), in_cols_, out_cols_, foreign.data);
        QWeights foreign_w = w.view();
        foreign_w.packed = foreign.data;
        result = run_twin(x, q, foreign_w, bias, rq, expected, rng, "operand packed from other weights");
      }
    }
    if (!result) {
      result << " [" << table_->name << " rows " << rows_ << " in " << in_cols_ << "x" << in_bits_ << "b zx "
             << zx_ << " w" << weight_bits_ << "b out " << out_cols_ << "x" << out_bits_ << "b zo " << zo_
             << " density " << density_ << " values " << static_cast<int>(values_) << " column scales "
             << column_scales_ << " extreme " << extreme_ << " relu " << relu_ << " seed " << seed_ << "]";
    }
    return result;
  }

 private:
  /// 16-byte aligned (as the runtime guarantees) and deliberately not 64-byte aligned; garbage first, so a
  /// byte the pack forgets to write shows.
  struct PackedBuffer {
    std::vector<uint8_t> storage;
    void* data;
    explicit PackedBuffer(size_t bytes) : storage(bytes + 128, 0xA5) {
      const uintptr_t base = reinterpret_cast<uintptr_t>(storage.data());
      data = storage.data() + ((64 - base % 64) % 64 + 16);
    }
  };

  void fill(QWeightMatrix& w, std::vector<int32_t>& bias, testutil::ChannelRescaleStore& rq, Rng& rng) const {
    const int32_t bias_limit = (1 << 30) - 1;
    if (extreme_) {
      for (int32_t c = 0; c < out_cols_; ++c) {
        for (int32_t k = 0; k < in_cols_; ++k) w.set(c, k, testutil::qmin_of(weight_bits_));
      }
    } else {
      w.fill_random(rng);
    }
    for (int32_t c = 0; c < out_cols_; ++c) {
      bias.push_back(extreme_ ? (c % 2 == 0 ? bias_limit : -bias_limit)
                              : static_cast<int32_t>(rng.uniform_int(-bias_limit, bias_limit) >>
                                                     rng.uniform_int(8, 24)));
      rq.multiplier.push_back(
          static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1)));
      // Mostly shifts that keep outputs inside the range (so rounding is visible), sometimes any, 1 to 62.
      rq.shift.push_back(
          static_cast<int32_t>(rng.chance(0.1) ? rng.uniform_int(1, 62) : rng.uniform_int(36, 44)));
    }
  }

  /// The twin over all rows, then over a random split run in random order, each into its own poisoned
  /// buffer, against the reference's bytes.
  ::testing::AssertionResult run_twin(const SparseMatrix& x, InputQuantization q, QWeights w,
                                      const std::vector<int32_t>& bias,
                                      const testutil::ChannelRescaleStore& rq, const QMatrix& expected,
                                      Rng& rng, const char* what) const {
    QMatrix whole(rows_, out_cols_, out_bits_, zo_), split(rows_, out_cols_, out_bits_, zo_);
    whole.poison(0x11);
    split.poison(0x77);
    table_->sparse_dense(x.view(), in_cols_, q, w, bias.data(), rq.view(), relu_, whole.view(), out_cols_, 0,
                         rows_);
    for (const auto& chunk : testutil::random_split(0, rows_, rng)) {
      table_->sparse_dense(x.view(), in_cols_, q, w, bias.data(), rq.view(), relu_, split.view(), out_cols_,
                           chunk.first, chunk.second);
    }
    ::testing::AssertionResult result = simdtest::same_rows(expected, whole, rows_);
    if (result) result = simdtest::same_rows(expected, split, rows_);
    if (!result) result << " (" << what << ")";
    return result;
  }

  const KernelTable* table_;
  int32_t rows_ = 12;
  int32_t in_cols_ = 64;
  int in_bits_ = 8;
  int32_t zx_ = 0;
  int weight_bits_ = 8;
  int32_t out_cols_ = 16;
  int out_bits_ = 8;
  int32_t zo_ = 0;
  double density_ = 0.1;
  bool dense_rows_ = true;
  SparseValues values_ = SparseValues::kRandom;
  bool column_scales_ = false;
  bool extreme_ = false;
  bool relu_ = false;
  uint64_t seed_ = 1;
};

using SparseDenseTwinTest = simdtest::TwinTest;

const std::vector<int32_t>& out_widths() {
  static const std::vector<int32_t> widths = {1, 7, 15, 16, 17, 31, 33, 64, 65};
  return widths;
}

TEST_P(SparseDenseTwinTest, EveryWidthAndBitWidth) {
  uint64_t seed = 1;
  for (int32_t in_cols : {1, 7, 1433}) {
    for (int32_t out_cols : out_widths()) {
      for (int weight_bits : {8, 4}) {
        for (int out_bits : {8, 4}) {
          const int in_bits = (seed % 3 == 0) ? 4 : 8;
          EXPECT_TRUE(TwinSparseDense(table())
                          .rows(in_cols == 1433 ? 10 : 14)
                          .in(in_cols, in_bits, in_bits == 4 ? -3 : 11)
                          .weights(weight_bits)
                          .out(out_cols, out_bits, out_bits == 4 ? 2 : -5)
                          .density(in_cols == 1433 ? 0.0127 : 0.4)
                          .column_scales(seed % 2 == 0)
                          .relu(seed % 4 == 1)
                          .seed(seed)
                          .check());
          ++seed;
        }
      }
    }
  }
}

TEST_P(SparseDenseTwinTest, ValuesThatSaturateAndRoundOnHalfSteps) {
  uint64_t seed = 100;
  for (SparseValues values : {SparseValues::kExtreme, SparseValues::kHalfSteps}) {
    for (int in_bits : {8, 4}) {
      for (bool column_scales : {false, true}) {
        for (int32_t out_cols : {16, 33}) {
          EXPECT_TRUE(TwinSparseDense(table())
                          .rows(16)
                          .in(97, in_bits, in_bits == 4 ? 1 : -20)
                          .out(out_cols, 8, 0)
                          .density(0.3)
                          .values(values)
                          .column_scales(column_scales)
                          .seed(seed++)
                          .check());
        }
      }
    }
  }
}

TEST_P(SparseDenseTwinTest, ZeroPointsAtTheEndsOfTheRange) {
  uint64_t seed = 200;
  for (int in_bits : {8, 4}) {
    for (int out_bits : {8, 4}) {
      const int32_t qmin_in = testutil::qmin_of(in_bits), qmax_in = testutil::qmax_of(in_bits);
      const int32_t qmin_out = testutil::qmin_of(out_bits), qmax_out = testutil::qmax_of(out_bits);
      for (int32_t zx : {qmin_in, qmax_in}) {
        for (int32_t zo : {qmin_out, qmax_out}) {
          for (bool relu : {false, true}) {
            EXPECT_TRUE(TwinSparseDense(table())
                            .rows(9)
                            .in(50, in_bits, zx)
                            .out(17, out_bits, zo)
                            .density(0.3)
                            .relu(relu)
                            .seed(seed++)
                            .check());
          }
        }
      }
    }
  }
}

TEST_P(SparseDenseTwinTest, WorstCaseAccumulatorAtTheColumnCap) {
  // 32768 columns, fully dense rows of |x - zx| = 255 times w = -128 (or int4 -8), biases +-(2^30 - 1):
  // the largest accumulator the bound admits, and the non-zeros run through many chunks.
  for (int weight_bits : {8, 4}) {
    EXPECT_TRUE(TwinSparseDense(table())
                    .rows(3)
                    .in(32768, 8, -128)
                    .weights(weight_bits)
                    .out(17, 8, 0)
                    .density(1.0)
                    .values(SparseValues::kHuge)
                    .extreme(true)
                    .seed(300 + static_cast<uint64_t>(weight_bits))
                    .check());
    EXPECT_TRUE(TwinSparseDense(table())
                    .rows(6)
                    .in(32768, 4, 5)
                    .weights(weight_bits)
                    .out(16, 4, -1)
                    .density(0.002)
                    .column_scales(true)
                    .seed(310 + static_cast<uint64_t>(weight_bits))
                    .check());
  }
}

TEST_P(SparseDenseTwinTest, EveryNonZeroCountAroundTheAccumulatorSets) {
  // Rows of 0..9 non-zeros (fully dense rows of 1..9 columns, and half-dense ones) hit every tail of the
  // twins' interleaved accumulator sets (4 or 2 of them), odd and even columns and adjacent column pairs,
  // at output widths of one to four vectors.
  uint64_t seed = 500;
  for (int32_t in_cols : {1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    for (double density : {1.0, 0.5}) {
      for (int32_t out_cols : {7, 16, 17, 33, 64}) {
        const int weight_bits = seed % 2 == 0 ? 8 : 4, out_bits = seed % 3 == 0 ? 4 : 8;
        EXPECT_TRUE(TwinSparseDense(table())
                        .rows(12)
                        .in(in_cols, 8, -7)
                        .weights(weight_bits)
                        .out(out_cols, out_bits, 3)
                        .density(density)
                        .seed(seed)
                        .check());
        ++seed;
      }
    }
  }
}

TEST_P(SparseDenseTwinTest, CoraShape) {
  EXPECT_TRUE(TwinSparseDense(table())
                  .rows(200)
                  .in(1433, 8, -128)
                  .out(16, 8, -128)
                  .density(0.0127)
                  .dense_rows(false)
                  .relu(true)
                  .seed(400)
                  .check());
}

INSTANTIATE_TEST_SUITE_P(Isa, SparseDenseTwinTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
