// AVX2 wide int4 sum (aggregate-wide4.h), in a file of its own so the generic int4 twin of
// x4-aggregate-avx2.cc keeps its code. Compiled with the AVX2 flags only (kernels/CMakeLists.txt).
#include "aggregate-wide4.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

bool aggregate_wide_x4_avx2(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                           int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  return aggregate_wide_x4<Avx2>(graph, params, in, cols, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
