// The SIMD global_pool() twins against the reference, byte for byte: sum / mean / max, every input x output
// width, batches with empty graphs, a 100k-node graph, awkward widths and random graph splits.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::QMatrix;
using testutil::Rng;

/// TwinPool(table).graph_sizes({3, 0, 5}).cols(17).bits(4, 8).zero_points(-8, 3).mode(kMean).check()
class TwinPool {
 public:
  explicit TwinPool(const KernelTable* table) : table_(table) {}
  TwinPool& graph_sizes(const std::vector<int32_t>& sizes) {
    graph_ptr_.assign(1, 0);
    for (int32_t size : sizes) graph_ptr_.push_back(graph_ptr_.back() + size);
    return *this;
  }
  TwinPool& cols(int32_t value) {
    cols_ = value;
    return *this;
  }
  TwinPool& bits(int in, int out) {
    in_bits_ = in;
    out_bits_ = out;
    return *this;
  }
  TwinPool& zero_points(int32_t in, int32_t out) {
    zx_ = in;
    zo_ = out;
    return *this;
  }
  TwinPool& mode(AggregateMode value) {
    mode_ = value;
    return *this;
  }
  TwinPool& rescale(Rescale value) {
    rq_ = value;
    return *this;
  }
  TwinPool& seed(uint64_t value) {
    seed_ = value;
    return *this;
  }

  ::testing::AssertionResult check() const {
    Rng rng(seed_);
    const int32_t graphs = static_cast<int32_t>(graph_ptr_.size()) - 1;
    QMatrix x(graph_ptr_.back(), cols_, in_bits_, zx_);
    x.fill_random(rng);
    QMatrix expected(graphs, cols_, out_bits_, zo_), whole(graphs, cols_, out_bits_, zo_),
        split(graphs, cols_, out_bits_, zo_);
    expected.poison(0xEE);
    whole.poison(0x11);
    split.poison(0x77);
    global_pool(graph_ptr_.data(), mode_, x.cview(), cols_, rq_, expected.view(), 0, graphs);
    table_->global_pool(graph_ptr_.data(), mode_, x.cview(), cols_, rq_, whole.view(), 0, graphs);
    for (const auto& chunk : testutil::random_split(0, graphs, rng)) {
      table_->global_pool(graph_ptr_.data(), mode_, x.cview(), cols_, rq_, split.view(), chunk.first,
                          chunk.second);
    }
    ::testing::AssertionResult result = simdtest::same_rows(expected, whole, graphs);
    if (result) result = simdtest::same_rows(expected, split, graphs);
    if (!result) {
      result << " [" << table_->name << " mode " << static_cast<int>(mode_) << " cols " << cols_ << " bits "
             << in_bits_ << "->" << out_bits_ << " zx " << zx_ << " zo " << zo_ << " seed " << seed_ << "]";
    }
    return result;
  }

 private:
  const KernelTable* table_;
  std::vector<int32_t> graph_ptr_{0};
  int32_t cols_ = 16;
  int in_bits_ = 8, out_bits_ = 8;
  int32_t zx_ = 0, zo_ = 0;
  AggregateMode mode_ = AggregateMode::kSum;
  Rescale rq_{1 << 30, 31};
  uint64_t seed_ = 1;
};

const AggregateMode kPoolModes[] = {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax};

class PoolSimdTest : public simdtest::TwinTest {};

TEST_P(PoolSimdTest, BatchesWithEmptyGraphs) {
  Rng rng(1100);
  uint64_t seed = 1;
  for (AggregateMode mode : kPoolModes) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (int32_t cols : {1, 3, 15, 16, 17, 63, 64, 65, 129}) {
          std::vector<int32_t> sizes;
          for (int g = 0; g < 9; ++g)
            sizes.push_back(static_cast<int32_t>(rng.chance(0.25) ? 0 : rng.uniform_int(1, 40)));
          ASSERT_TRUE(TwinPool(table())
                          .graph_sizes(sizes)
                          .cols(cols)
                          .bits(in_bits, out_bits)
                          .zero_points(static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits),
                                                                            testutil::qmax_of(in_bits))),
                                       static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits),
                                                                            testutil::qmax_of(out_bits))))
                          .mode(mode)
                          .rescale(testutil::random_rescale(rng, 10, 2))
                          .seed(seed++)
                          .check());
        }
      }
    }
  }
}

TEST_P(PoolSimdTest, LargeGraphAndNoGraphs) {
  for (AggregateMode mode : kPoolModes) {
    for (int in_bits : {8, 4}) {
      ASSERT_TRUE(TwinPool(table())
                      .graph_sizes({100000, 0, 1})
                      .cols(17)
                      .bits(in_bits, 8)
                      .zero_points(testutil::qmin_of(in_bits), 0)
                      .mode(mode)
                      .rescale(Rescale{1518500250, 40})
                      .check());
      ASSERT_TRUE(TwinPool(table()).graph_sizes({}).cols(5).bits(in_bits, 4).mode(mode).check());
      ASSERT_TRUE(TwinPool(table()).graph_sizes({4, 2}).cols(0).bits(in_bits, 4).mode(mode).check());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, PoolSimdTest, ::testing::ValuesIn(simdtest::twin_isas()), simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
