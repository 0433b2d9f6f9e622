// docs/quantization.md, "Transform-first SAGEConv", worked example, pinned so the document and the kernels
// cannot drift apart. The three steps are the existing kernels (no new kernel): the messages are given, the
// mean is aggregate(kMean) and the output step is dense() with the identity as its weights and the root term
// as its extra input.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using testutil::Csr;
using testutil::QMatrix;

// int8, node 0 with one neighbour (node 1) whose m - z_m = 9, z_m = 0, factor 1/3, z_a = 1:
// a = 1 + rescale(9 * 1/3) = 4; b = 2, s_a / s_out = 0.5, root term rescale(...) = -3, zo = 0:
// out = 0 + rescale(2 + 3, 1/2) + (-3) = 3 - 3 = 0 (5 * 1/2 = 2.5 rounds half up to 3).
TEST(SageTransformFirst, DocumentedExample) {
  const Csr graph = Csr::from_in_neighbours({{1}, {}});
  QMatrix messages(2, 1, 8, /*z_m=*/0);
  messages.set(0, 0, 0);
  messages.set(1, 0, 9);
  // 1/3 as a fixed-point rescale: 1431655765 / 2^32 (the multiplier must be in [2^30, 2^31)).
  const AggregateParams mean{AggregateMode::kMean, Rescale{1431655765, 32}, 0, nullptr};
  QMatrix agg(2, 1, 8, /*z_a=*/1);
  aggregate(graph.view(), mean, messages.cview(), 1, agg.view(), 0, 2);
  ASSERT_EQ(agg.get(0, 0), 4);
  ASSERT_EQ(agg.get(1, 0), 1);  // no neighbour: a = z_a (real 0)

  // The root term: x - zx = -3 through w_r = [[1]] at factor 1 (2^30 / 2^30).
  QMatrix x(2, 1, 8, /*zx=*/5);
  x.set(0, 0, -3 + 5);
  x.set(1, 0, 5);
  const int8_t one[] = {1};  // the identity of width 1, and the root weight
  const int32_t root_multiplier[] = {1 << 30}, root_shift[] = {30};
  const DenseExtraInput root{x.cview(), 1, QWeights{one, 8}, nullptr, ChannelRescale{root_multiplier, root_shift}};
  const int32_t bias[] = {2};
  const int32_t out_multiplier[] = {1 << 30}, out_shift[] = {31};  // output_requant = 0.5
  for (bool relu : {false, true}) {
    QMatrix out(2, 1, 8, /*zo=*/0);
    dense(agg.cview(), 1, QWeights{one, 8}, bias, ChannelRescale{out_multiplier, out_shift}, &root, relu,
          out.view(), 1, 0, 2);
    EXPECT_EQ(out.get(0, 0), 0) << "relu=" << relu;
    EXPECT_EQ(out.get(1, 0), 1) << "relu=" << relu;  // rescale(2 + 0, 1/2) = 1, root term 0
  }
  // Without root: out = rescale(5, 1/2) = 3.
  QMatrix out(2, 1, 8, 0);
  dense(agg.cview(), 1, QWeights{one, 8}, bias, ChannelRescale{out_multiplier, out_shift}, nullptr, false,
        out.view(), 1, 0, 2);
  EXPECT_EQ(out.get(0, 0), 3);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
