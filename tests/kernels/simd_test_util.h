// Helpers of the SIMD twin tests: every twin is compared with the reference kernel BYTE FOR BYTE (the
// reference itself is checked against the oracles by the other kernel tests). Builder-style cases:
//
//   TwinAggregate(table).graph(g).cols(17).bits(8, 4).zero_points(-128, 7).mode(AggregateMode::kMean)
//       .seed(3).check();
//   TwinAggregate(table).graph(g).cols(16).mode(AggregateMode::kGcn).bias(b).relu(true).check();
//
// check() runs the reference once over all rows and the twin twice (all rows at once, then a random split
// into chunks run in random order, as a thread pool would), each into a buffer poisoned with a different
// byte, so a byte the twin forgets to write, or a dependence on the split, shows up as a mismatch.
#ifndef QGNN_TESTS_KERNELS_SIMD_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_SIMD_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

/// GoogleTest prints an ISA parameter by name.
inline void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }

namespace simdtest {

using testutil::Csr;
using testutil::QMatrix;
using testutil::Rng;

/// The twins a test runs over: those of the architecture this test is compiled for (the others can never
/// exist in the build, so listing them would only add skips). A twin this build or CPU lacks is skipped
/// with the reason.
inline std::vector<Isa> twin_isas() {
#if defined(__aarch64__)
  return {Isa::kNeon, Isa::kNeonDot};
#else
  return {Isa::kAvx2, Isa::kAvx512};
#endif
}

inline std::string isa_label(const ::testing::TestParamInfo<Isa>& info) { return isa_name(info.param); }

/// Fixture of the tests parameterized by ISA: table() is that ISA's kernel table; SetUp skips the test,
/// with the reason, when this build or CPU has no such twins.
class TwinTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    table_ = kernels_for(GetParam());
    if (table_ == nullptr) {
      GTEST_SKIP() << isa_name(GetParam())
                   << " twins are not compiled into this build or not supported by this CPU";
    }
  }
  const KernelTable* table() const { return table_; }

 private:
  const KernelTable* table_ = nullptr;
};

/// Asserts that two outputs have the same bytes in rows [0, rows), naming the first differing element.
inline ::testing::AssertionResult same_rows(const QMatrix& expected, const QMatrix& actual, int32_t rows) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t c = 0; c < expected.cols(); ++c) {
      if (expected.get(r, c) != actual.get(r, c)) {
        return ::testing::AssertionFailure() << "row " << r << " col " << c << ": reference "
                                             << expected.get(r, c) << ", twin " << actual.get(r, c);
      }
    }
  }
  if (expected.row_range_bytes(0, rows) != actual.row_range_bytes(0, rows)) {
    return ::testing::AssertionFailure() << "the elements agree but a pad nibble or byte differs";
  }
  return ::testing::AssertionSuccess();
}

/// One aggregate() comparison.
class TwinAggregate {
 public:
  explicit TwinAggregate(const KernelTable* table) : table_(table) {}

  TwinAggregate& graph(const Csr& g) {
    graph_ = &g;
    return *this;
  }
  TwinAggregate& cols(int32_t value) {
    cols_ = value;
    return *this;
  }
  TwinAggregate& bits(int in, int out) {
    in_bits_ = in;
    out_bits_ = out;
    return *this;
  }
  TwinAggregate& zero_points(int32_t in, int32_t out) {
    zx_ = in;
    zo_ = out;
    return *this;
  }
  TwinAggregate& mode(AggregateMode value) {
    mode_ = value;
    return *this;
  }
  TwinAggregate& rescale(Rescale value) {
    rq_ = value;
    return *this;
  }
  TwinAggregate& self_weight(int32_t value) {
    self_weight_ = value;
    return *this;
  }
  /// The per-column bias (AggregateParams::bias, cols() entries); not called: no bias (null).
  TwinAggregate& bias(std::vector<int32_t> value) {
    bias_ = std::move(value);
    has_bias_ = true;
    return *this;
  }
  /// The fused ReLU (AggregateParams::relu).
  TwinAggregate& relu(bool value) {
    relu_ = value;
    return *this;
  }
  /// Every feature set to `value` instead of random values.
  TwinAggregate& constant_input(int32_t value) {
    constant_ = true;
    constant_value_ = value;
    return *this;
  }
  TwinAggregate& seed(uint64_t value) {
    seed_ = value;
    return *this;
  }

  ::testing::AssertionResult check() const {
    Rng rng(seed_);
    const int32_t n = graph_->num_nodes();
    QMatrix x(n, cols_, in_bits_, zx_);
    if (constant_) {
      x.fill(constant_value_);
    } else {
      x.fill_random(rng);
    }
    std::vector<int32_t> norms(static_cast<size_t>(n) + 1, 0);
    gcn_norm(graph_->view(), norms.data(), 0, n);
    QMatrix expected(n, cols_, out_bits_, zo_), whole(n, cols_, out_bits_, zo_),
        split(n, cols_, out_bits_, zo_);
    expected.poison(0xEE);
    whole.poison(0x11);
    split.poison(0x77);
    if (has_bias_ && bias_.size() != static_cast<size_t>(cols_)) {
      return ::testing::AssertionFailure()
             << "test setup: " << bias_.size() << " bias entries for " << cols_ << " columns";
    }
    // The bias is copied to a buffer of exactly cols entries, so a twin that reads past it is caught by
    // ASan (the asan preset runs these tests too).
    std::vector<int32_t> bias_copy(bias_);
    AggregateParams params{mode_, rq_, self_weight_, norms.data()};
    params.bias = has_bias_ ? bias_copy.data() : nullptr;
    params.relu = relu_;
    aggregate(graph_->view(), params, x.cview(), cols_, expected.view(), 0, n);
    table_->aggregate(graph_->view(), params, x.cview(), cols_, whole.view(), 0, n);
    for (const auto& chunk : testutil::random_split(0, n, rng)) {
      table_->aggregate(graph_->view(), params, x.cview(), cols_, split.view(), chunk.first, chunk.second);
    }
    ::testing::AssertionResult result = same_rows(expected, whole, n);
    if (result) result = same_rows(expected, split, n);
    if (!result) {
      result << " [" << table_->name << " mode " << static_cast<int>(mode_) << " cols " << cols_ << " bits "
             << in_bits_ << "->" << out_bits_ << " zx " << zx_ << " zo " << zo_ << " rq " << rq_.multiplier
             << "/" << rq_.shift << " self " << self_weight_ << " bias " << (has_bias_ ? "yes" : "no")
             << " relu " << relu_ << " seed " << seed_ << "]";
    }
    return result;
  }

 private:
  const KernelTable* table_;
  const Csr* graph_ = nullptr;
  int32_t cols_ = 16;
  int in_bits_ = 8, out_bits_ = 8;
  int32_t zx_ = 0, zo_ = 0;
  AggregateMode mode_ = AggregateMode::kSum;
  Rescale rq_{1 << 30, 31};
  int32_t self_weight_ = 0;
  std::vector<int32_t> bias_;
  bool has_bias_ = false;
  bool relu_ = false;
  bool constant_ = false;
  int32_t constant_value_ = 0;
  uint64_t seed_ = 1;
};

}  // namespace simdtest
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_SIMD_TEST_UTIL_H_
